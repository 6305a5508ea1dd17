"""The controlled vocabulary: every code dermatrack uses, with a label for people.

The vocabulary is bundled as ``knowledge/data/vocabulary.yaml`` and checked against
``knowledge/data/schema/vocabulary.schema.json``. Intake forms, screening rules, treatment
plans, charts and imaging regions all name things by the codes declared here, so a typo
is caught where it is made rather than silently matching nothing.

Examples
--------
>>> vocab = load_vocabulary()
>>> vocab.require("modalities", "ipl", field="modality").label
'Intense pulsed light'
>>> vocab.canonical_region("cheek_left")
'cheeks'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from dermatrack.errors import DermatrackError, InputError

FITZPATRICK: tuple[str, ...] = ("I", "II", "III", "IV", "V", "VI")
"""Fitzpatrick sun-reactive skin types, lightest to darkest (Fitzpatrick 1988)."""

VOCABULARY_FILE = "vocabulary.yaml"
VOCABULARY_SCHEMA = "vocabulary.schema.json"

#: The kinds of term, in the order they appear in vocabulary.yaml.
KINDS: tuple[str, ...] = (
    "modalities",
    "concerns",
    "conditions",
    "medications",
    "skin_types",
    "age_bands",
    "sexes",
    "regions",
    "adverse_events",
    "expected_reactions",
)


@dataclass(frozen=True)
class Term:
    """One code of the vocabulary.

    Parameters
    ----------
    code : str
        The code stored in data and sent over the API (``"acne_scars"``, ``"IV"``).
    label : str
        What a person reads.
    description : str or None
        A short explanation, where the label alone could be misread.
    record : str or None
        For modalities and concerns: stem of the seed-format record that describes it.
    snomed : str or None
        For skin types: the SNOMED CT concept id of the phototype finding.
    needs_last_taken : bool
        For medications: screening needs the date the drug was last taken, because rules
        look back from it (isotretinoin: 6 calendar months).
    escalates_to : str or None
        For expected reactions: the adverse-event code it is charted as once it lasts past
        the modality's usual duration.
    abbreviation : str or None
        For modalities: two or three capitals heading a column of the matrix grid.
    group : str or None
        For conditions: ``"allergy"``, ``"psychological"`` or ``"reproductive"``; the
        contraindication matrix shows allergies as their own rows.
    implies : tuple of str
        For conditions and medications: condition codes this one implies (a pacemaker implies
        cardiac conduction disease). Screening applies implications, transitively, before the
        rules; a medication implies only while it is taken.
    implausible_for_sex : tuple of str
        For conditions: sexes with which recording the condition is implausible (pregnancy in
        a male patient); intake warns.
    min_years, max_years : int or None
        For age bands: the inclusive span of whole years.
    """

    code: str
    label: str
    description: str | None = None
    record: str | None = None
    snomed: str | None = None
    needs_last_taken: bool = False
    escalates_to: str | None = None
    group: str | None = None
    abbreviation: str | None = None
    implies: tuple[str, ...] = ()
    implausible_for_sex: tuple[str, ...] = ()
    min_years: int | None = None
    max_years: int | None = None


@dataclass(frozen=True)
class Vocabulary:
    """The whole controlled vocabulary, one ``code -> Term`` mapping per kind.

    ``region_aliases`` maps the per-side region names made by imaging
    (``cheek_left``, ``periorbital_right``, ``whole``) to clinic regions.
    """

    modalities: dict[str, Term]
    concerns: dict[str, Term]
    conditions: dict[str, Term]
    medications: dict[str, Term]
    skin_types: dict[str, Term]
    age_bands: dict[str, Term]
    sexes: dict[str, Term]
    regions: dict[str, Term]
    adverse_events: dict[str, Term]
    expected_reactions: dict[str, Term]
    region_aliases: dict[str, str]

    def terms(self, kind: str) -> dict[str, Term]:
        """Return the mapping of one kind (``"concerns"``, ``"regions"``, ...).

        Raises
        ------
        DermatrackError
            If ``kind`` is not one of :data:`KINDS` (a programming error, not bad input).
        """
        if kind not in KINDS:
            raise DermatrackError(f"unknown vocabulary kind {kind!r}; known: {', '.join(KINDS)}")
        return getattr(self, kind)

    def require(self, kind: str, code: str, *, field: str) -> Term:
        """Return the term for ``code`` or raise an InputError naming ``field``.

        Region aliases from imaging are accepted for ``kind="regions"`` and resolve to
        their clinic region.

        Parameters
        ----------
        kind : str
            One of :data:`KINDS`.
        code : str
            The code to look up (exact, case-sensitive).
        field : str
            The input field the code came from, named in the error message.

        Raises
        ------
        InputError
            When the code is unknown; the message lists close matches (difflib).
        """
        terms = self.terms(kind)
        if kind == "regions":
            code = self.region_aliases.get(code, code)
        term = terms.get(code)
        if term is not None:
            return term
        close = difflib.get_close_matches(str(code), list(terms), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(terms)}"
        singular = (kind[:-3] + "y" if kind.endswith("ies")
                    else kind[:-1] if kind.endswith("s") else kind)
        raise InputError(f"unknown {singular.replace('_', ' ')} code {code!r}{hint}", field=field)

    def canonical_region(self, code: str) -> str:
        """Map an imaging region name to its clinic region code (identity for clinic codes)."""
        return self.region_aliases.get(code, code)

    def age_band(self, age: int) -> str:
        """The code of the age band holding ``age`` whole years.

        Raises
        ------
        DermatrackError
            If no band holds it (the bands are checked to cover 0-125 years).
        """
        for code, term in self.age_bands.items():
            if term.min_years is not None and term.max_years is not None and (
                    term.min_years <= age <= term.max_years):
                return code
        raise DermatrackError(f"no age band holds age {age}")

    def implied_conditions(self, conditions: Iterable[str],
                           medications: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
        """Conditions implied by recorded conditions and current medications, transitively.

        Parameters
        ----------
        conditions : iterable of str
            Condition codes recorded for the patient.
        medications : iterable of str
            Medication codes the patient takes now.

        Returns
        -------
        dict of str to tuple of str
            Each implied condition not itself recorded, mapped to the chain of codes that
            implies it, starting from a recorded code (``("pacemaker",
            "cardiac_conduction_disease")`` for ``cardiac_disease``).
        """
        recorded = set(conditions)
        chains: dict[str, tuple[str, ...]] = {}
        queue: list[tuple[str, tuple[str, ...]]] = []
        for code in sorted(recorded):
            queue.append((code, (code,)))
        for code in sorted(set(medications)):
            term = self.medications.get(code)
            for target in term.implies if term else ():
                queue.append((target, (code, target)))
                if target not in recorded and target not in chains:
                    chains[target] = (code,)
        while queue:
            code, chain = queue.pop(0)
            term = self.conditions.get(code)
            for target in term.implies if term else ():
                if target in recorded or target in chains:
                    continue
                chains[target] = chain
                queue.append((target, (*chain, target)))
        return chains


def vocabulary_from_data(data: dict[str, Any]) -> Vocabulary:
    """Build a :class:`Vocabulary` from the parsed YAML mapping (already schema-checked)."""
    known = {f.name for f in fields(Term)} - {"code"}
    tuples = {"implies", "implausible_for_sex"}

    def terms(kind: str) -> dict[str, Term]:
        out: dict[str, Term] = {}
        for code, entry in data[kind].items():
            values: dict[str, Any] = {k: tuple(v) if k in tuples else v
                                      for k, v in entry.items() if k in known}
            out[str(code)] = Term(code=str(code), **values)
        return out

    return Vocabulary(
        **{kind: terms(kind) for kind in KINDS},
        region_aliases={str(k): str(v) for k, v in data["region_aliases"].items()},
    )


def read_vocabulary_data() -> dict[str, Any]:
    """Read the bundled vocabulary.yaml as a plain mapping (no checks)."""
    text = resources.files("dermatrack.knowledge").joinpath("data", VOCABULARY_FILE).read_text(
        encoding="utf-8"
    )
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise DermatrackError(f"{VOCABULARY_FILE}: expected a mapping at the top level")
    return data


@lru_cache(maxsize=1)
def load_vocabulary() -> Vocabulary:
    """Load and check the bundled vocabulary (cached).

    Raises
    ------
    DermatrackError
        If the bundled file does not match its schema or its cross-references are broken.
    """
    from dermatrack.knowledge.modalities import validate_vocabulary_data

    data = read_vocabulary_data()
    problems = validate_vocabulary_data(data)
    if problems:
        raise DermatrackError("invalid bundled vocabulary: " + "; ".join(problems))
    return vocabulary_from_data(data)

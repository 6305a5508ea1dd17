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
from typing import Any

import yaml

from dermatrack.errors import DermatrackError, InputError
from dermatrack.knowledge import packaged

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


def validate_vocabulary_data(data: object, *, name: str = VOCABULARY_FILE) -> list[str]:
    """Every problem in a parsed vocabulary mapping; empty when it is valid.

    Checks the schema, that aliases point at regions, that escalations point at adverse
    events, and that the skin types are exactly Fitzpatrick I-VI.
    """
    problems = packaged.schema_problems(data, VOCABULARY_SCHEMA, name)
    if problems or not isinstance(data, dict):
        return problems
    for alias, target in data["region_aliases"].items():
        if target not in data["regions"]:
            problems.append(f"{name}: region_aliases.{alias}: {target!r} is not a region code")
        if alias in data["regions"]:
            problems.append(f"{name}: region_aliases.{alias}: alias shadows a region code")
    for code, entry in data["expected_reactions"].items():
        target = entry.get("escalates_to")
        if target is not None and target not in data["adverse_events"]:
            problems.append(
                f"{name}: expected_reactions.{code}.escalates_to: "
                f"{target!r} is not an adverse-event code"
            )
    if tuple(data["skin_types"]) != FITZPATRICK:
        problems.append(f"{name}: skin_types: expected exactly {', '.join(FITZPATRICK)} in order")
    for kind in ("conditions", "medications"):
        for code, entry in data[kind].items():
            for target in entry.get("implies", []):
                if target not in data["conditions"]:
                    problems.append(f"{name}: {kind}.{code}.implies: {target!r} is not a "
                                    "condition code")
                elif target == code:
                    problems.append(f"{name}: {kind}.{code}.implies: a code cannot imply itself")
    for code, entry in data["conditions"].items():
        for sex in entry.get("implausible_for_sex", []):
            if sex not in data["sexes"]:
                problems.append(f"{name}: conditions.{code}.implausible_for_sex: {sex!r} is "
                                "not a sex code")
    expected_age = 0
    for code, entry in data["age_bands"].items():
        low, high = entry.get("min_years"), entry.get("max_years")
        if low is None or high is None:
            problems.append(f"{name}: age_bands.{code}: min_years and max_years are required")
            break
        if low != expected_age or high < low:
            problems.append(f"{name}: age_bands.{code}: {low}..{high} does not continue from "
                            f"{expected_age} (bands must cover 0-125 years in order, no gaps)")
            break
        expected_age = high + 1
    else:
        if expected_age <= 125:
            problems.append(f"{name}: age_bands: the last band ends at {expected_age - 1}, "
                            "not 125")
    return problems


def read_vocabulary_data() -> dict[str, Any]:
    """Read the bundled vocabulary.yaml as a plain mapping (no checks)."""
    text = packaged.data_root().joinpath(VOCABULARY_FILE).read_text(encoding="utf-8")
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
    data = read_vocabulary_data()
    problems = validate_vocabulary_data(data)
    if problems:
        raise DermatrackError("invalid bundled vocabulary: " + "; ".join(problems))
    return vocabulary_from_data(data)

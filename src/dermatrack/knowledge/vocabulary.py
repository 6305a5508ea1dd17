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
        look back a number of days (isotretinoin: 180 days).
    escalates_to : str or None
        For expected reactions: the adverse-event code it is charted as once it lasts past
        the modality's usual duration.
    """

    code: str
    label: str
    description: str | None = None
    record: str | None = None
    snomed: str | None = None
    needs_last_taken: bool = False
    escalates_to: str | None = None


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


def vocabulary_from_data(data: dict[str, Any]) -> Vocabulary:
    """Build a :class:`Vocabulary` from the parsed YAML mapping (already schema-checked)."""
    known = {f.name for f in fields(Term)} - {"code"}

    def terms(kind: str) -> dict[str, Term]:
        return {
            str(code): Term(code=str(code), **{k: v for k, v in entry.items() if k in known})
            for code, entry in data[kind].items()
        }

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

"""The contraindication matrix: an explicit, sourced verdict for every factor and modality.

A *factor* is anything about a patient that screening reads: a vocabulary condition (allergies
are conditions of ``group: allergy``), a medication, an age band, a Fitzpatrick type or a sex.
``knowledge/data/matrix.yaml`` gives, for every factor against every modality, one verdict:

* ``contraindicated``: a hard stop; it must cite a label or instructions for use, a guideline,
  a consensus statement or a peer-reviewed paper (``sources.yaml`` gives each source's kind);
* ``caution``: proceed with the stated mitigation;
* ``no_effect``: the factor does not change the decision, with the reason and the source
  that was reviewed.

Entries group factors and modalities explicitly; :func:`validate_matrix_data` fails when any
pair is covered by no entry or by two, when a hard stop rests on a weak source, when a code
implying another (vocabulary ``implies``) has a milder verdict than the code it implies, or
when a medication rule has no exposure window. The non-``no_effect`` entries become the
screening rules of each modality (:func:`rules_for`), ids ``<modality>.<rule>``.

Medication exposure: ``current`` (taken now), ``ever`` (taken at any time: gold stays in the
dermis for life), ``{within_months: N}`` (taken now, or last taken on a day D with the
screening date at most N calendar months after D, the anniversary day included), or
``{within_days: N}`` (at most N days after D).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from dermatrack.errors import DermatrackError
from dermatrack.knowledge.packaged import PerVocabulary

if typing.TYPE_CHECKING:
    from dermatrack.knowledge.rules import Predicate, Reference, Rule
    from dermatrack.knowledge.vocabulary import Vocabulary

MATRIX_FILE = "matrix.yaml"
SOURCES_FILE = "sources.yaml"
MATRIX_SCHEMA = "matrix.schema.json"
SOURCES_SCHEMA = "sources.schema.json"

#: Verdicts from worst to best.
MATRIX_VERDICTS: tuple[str, ...] = ("contraindicated", "caution", "no_effect")

#: Source kinds strong enough for a hard stop.
STRONG_KINDS: frozenset[str] = frozenset({"label", "guideline", "consensus", "peer_reviewed"})

#: Source kinds, strongest first.
SOURCE_KINDS: tuple[str, ...] = ("label", "guideline", "consensus", "peer_reviewed",
                                 "textbook", "web")

#: Factor kinds in display order, with the entry key that lists them.
FACTOR_KINDS: tuple[tuple[str, str], ...] = (
    ("condition", "conditions"),
    ("allergy", "conditions"),
    ("medication", "medications"),
    ("age_band", "age_bands"),
    ("skin_type", "skin_types"),
    ("sex", "sexes"),
)

_SEVERITY = {"contraindicated": 2, "caution": 1, "no_effect": 0}


@dataclass(frozen=True)
class Factor:
    """One row of the matrix: ``kind`` (see :data:`FACTOR_KINDS`), vocabulary ``code``, label."""

    kind: str
    code: str
    label: str

    @property
    def key(self) -> str:
        """``"<kind>:<code>"``, unique across the matrix."""
        return f"{self.kind}:{self.code}"


@dataclass(frozen=True)
class Source:
    """A citable source with its kind (``label``, ``consensus``, ``peer_reviewed``, ...)."""

    id: str
    kind: str
    citation: str
    url: str | None = None


@dataclass(frozen=True)
class Cell:
    """The verdict for one factor and one modality.

    Attributes
    ----------
    rule:
        The screening rule id (``"deep_peel.cardiac"``), None for ``no_effect``.
    exposure:
        For medication factors of a rule: ``"current"``, ``"ever"``, ``"within 6 calendar
        months"`` or ``"within 5 days"``; None otherwise.
    basis:
        ``stated``, ``inferred`` or ``not_listed`` (docs/knowledge-data.md).
    entry:
        Index of the matrix.yaml entry the verdict comes from.
    """

    factor: Factor
    modality: str
    verdict: str
    rule: str | None
    rationale: str
    mitigation: str | None
    source: Source
    basis: str
    exposure: str | None
    entry: int

    def to_dict(self) -> dict[str, typing.Any]:
        return {"factor_kind": self.factor.kind, "factor": self.factor.code,
                "factor_label": self.factor.label, "modality": self.modality,
                "verdict": self.verdict, "rule": self.rule, "exposure": self.exposure,
                "rationale": self.rationale, "mitigation": self.mitigation,
                "basis": self.basis, "source": self.source.id,
                "source_kind": self.source.kind, "citation": self.source.citation}


@dataclass(frozen=True)
class Matrix:
    """Every factor against every modality (``cells[(factor.key, modality)]``)."""

    factors: tuple[Factor, ...]
    modalities: tuple[str, ...]
    cells: Mapping[tuple[str, str], Cell]
    sources: Mapping[str, Source]
    #: Column heading of each modality (:func:`short_code` in the vocabulary it was built with).
    short_codes: Mapping[str, str] = field(default_factory=dict)

    def cell(self, factor_key: str, modality: str) -> Cell:
        return self.cells[(factor_key, modality)]

    def rows(self, modality: str | None = None) -> list[Cell]:
        """Cells in factor order, then modality order; only ``modality``'s when given."""
        codes = self.modalities if modality is None else (modality,)
        return [self.cells[(f.key, m)] for f in self.factors for m in codes]

    def counts(self) -> dict[str, int]:
        """How many cells have each verdict."""
        out = {verdict: 0 for verdict in MATRIX_VERDICTS}
        for cell in self.cells.values():
            out[cell.verdict] += 1
        return out


# --------------------------------------------------------------------------- reading


def _data() -> typing.Any:
    return resources.files("dermatrack.knowledge").joinpath("data")


def read_matrix_data() -> tuple[typing.Any, typing.Any]:
    """The parsed matrix.yaml and sources.yaml (no checks)."""
    matrix = yaml.safe_load(_data().joinpath(MATRIX_FILE).read_text(encoding="utf-8"))
    sources = yaml.safe_load(_data().joinpath(SOURCES_FILE).read_text(encoding="utf-8"))
    return matrix, sources


@lru_cache(maxsize=2)
def _schema(name: str) -> dict[str, typing.Any]:
    return json.loads(_data().joinpath("schema", name).read_text(encoding="utf-8"))


def factors_of(vocabulary: Vocabulary) -> tuple[Factor, ...]:
    """Every matrix row the vocabulary defines, in :data:`FACTOR_KINDS` order."""
    out: list[Factor] = []
    for kind, _ in FACTOR_KINDS:
        if kind in ("condition", "allergy"):
            terms = {c: t for c, t in vocabulary.conditions.items()
                     if (t.group == "allergy") == (kind == "allergy")}
        else:
            terms = vocabulary.terms({"medication": "medications", "age_band": "age_bands",
                                      "skin_type": "skin_types", "sex": "sexes"}[kind])
        out += [Factor(kind, code, term.label) for code, term in terms.items()]
    return tuple(out)


def _entry_factors(entry: Mapping[str, typing.Any], vocabulary: Vocabulary) -> list[Factor]:
    by_key = {f.key: f for f in factors_of(vocabulary)}
    out = []
    for code in entry.get("conditions", []):
        term = vocabulary.conditions.get(code)
        kind = "allergy" if term is not None and term.group == "allergy" else "condition"
        out.append(by_key.get(f"{kind}:{code}", Factor(kind, code, code)))
    for code in _medications(entry):
        out.append(by_key.get(f"medication:{code}", Factor("medication", code, code)))
    for key, kind in (("age_bands", "age_band"), ("skin_types", "skin_type"), ("sexes", "sex")):
        for code in entry.get(key, []):
            out.append(by_key.get(f"{kind}:{code}", Factor(kind, code, code)))
    return out


def _medications(entry: Mapping[str, typing.Any]) -> dict[str, typing.Any]:
    """Medication code -> exposure (None when listed without one)."""
    meds = entry.get("medications", {})
    if isinstance(meds, list):
        return {code: None for code in meds}
    return dict(meds)


def exposure_text(exposure: typing.Any) -> str | None:
    """``current``, ``ever``, ``within N calendar months`` or ``within N days``."""
    if exposure is None or isinstance(exposure, str):
        return exposure
    if "within_months" in exposure:
        return f"within {exposure['within_months']} calendar months"
    return f"within {exposure['within_days']} days"


def _source_id(entry: Mapping[str, typing.Any], modality: str) -> str | None:
    source = entry["source"]
    return source if isinstance(source, str) else source.get(modality)


# --------------------------------------------------------------------------- validation


def validate_matrix_data(matrix: typing.Any, sources: typing.Any,
                         vocabulary: Vocabulary) -> list[str]:
    """Every problem in the parsed matrix and sources; empty when both are valid.

    Checks the schemas; that every code is a vocabulary code of the right kind; that every
    (factor, modality) pair is covered exactly once; that each entry cites a source for each
    of its modalities; that rules are named and unique per modality, cautions carry a
    mitigation, medications in a rule carry an exposure (a window only for medications with
    ``needs_last_taken``); that hard stops rest on strong sources; and that an implying code
    is never milder than the code it implies.
    """
    import jsonschema

    problems: list[str] = []
    for data, schema, name in ((sources, SOURCES_SCHEMA, SOURCES_FILE),
                               (matrix, MATRIX_SCHEMA, MATRIX_FILE)):
        validator = jsonschema.Draft202012Validator(_schema(schema))
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
            where = ".".join(f"[{p}]" if isinstance(p, int) else str(p)
                             for p in error.absolute_path) or "(top level)"
            problems.append(f"{name}: {where.replace('.[', '[')}: {error.message}")
    if problems:
        return problems
    catalogue = sources["sources"]
    modality_codes = list(vocabulary.modalities)
    covered: dict[tuple[str, str], int] = {}
    rule_owner: dict[str, int] = {}
    verdicts: dict[tuple[str, str], str] = {}
    kinds = {"conditions": vocabulary.conditions, "medications": vocabulary.medications,
             "age_bands": vocabulary.age_bands, "skin_types": vocabulary.skin_types,
             "sexes": vocabulary.sexes}
    for i, entry in enumerate(matrix["entries"]):
        at = f"{MATRIX_FILE}: entries[{i}]"
        verdict = entry["verdict"]
        for key, table in kinds.items():
            listed = entry.get(key, [])
            for code in (_medications(entry) if key == "medications" else listed):
                if code not in table:
                    problems.append(f"{at}.{key}: unknown {key[:-1].replace('_', ' ')} code "
                                    f"{code!r}")
        for code in entry["modalities"]:
            if code not in vocabulary.modalities:
                problems.append(f"{at}.modalities: unknown modality code {code!r}")
        if verdict == "no_effect":
            if entry.get("rule") or entry.get("mitigation"):
                problems.append(f"{at}: a no_effect entry has no rule and no mitigation")
        else:
            if not entry.get("rule"):
                problems.append(f"{at}.rule: a {verdict} entry names its rule")
            if verdict == "caution" and not entry.get("mitigation"):
                problems.append(f"{at}.mitigation: a caution needs a mitigation")
            if verdict == "contraindicated" and entry.get("mitigation"):
                problems.append(f"{at}.mitigation: a hard stop has no mitigation")
            if verdict == "contraindicated" and entry["basis"] == "not_listed":
                problems.append(f"{at}.basis: a hard stop cannot rest on a source that does "
                                "not list it")
            for code, exposure in _medications(entry).items():
                if exposure is None:
                    problems.append(f"{at}.medications.{code}: a {verdict} rule needs an "
                                    "exposure (current, ever, within_months or within_days)")
                elif (isinstance(exposure, dict) and code in vocabulary.medications
                      and not vocabulary.medications[code].needs_last_taken):
                    problems.append(f"{at}.medications.{code}: a time window needs a "
                                    "medication with needs_last_taken in the vocabulary")
        for code in entry["modalities"]:
            source = _source_id(entry, code)
            if source is None:
                problems.append(f"{at}.source: no source for modality {code!r}")
                continue
            if source not in catalogue:
                problems.append(f"{at}.source: {source!r} is not in {SOURCES_FILE}")
                continue
            if verdict == "contraindicated" and catalogue[source]["kind"] not in STRONG_KINDS:
                problems.append(f"{at}.source: a hard stop for {code} cites {source!r} of kind "
                                f"{catalogue[source]['kind']!r}; it needs a label, guideline, "
                                "consensus or peer-reviewed paper")
            if entry.get("rule"):
                rule_id = f"{code}.{entry['rule']}"
                if rule_id in rule_owner:
                    problems.append(f"{at}.rule: {rule_id!r} is also declared in "
                                    f"entries[{rule_owner[rule_id]}]")
                rule_owner[rule_id] = i
        for factor in _entry_factors(entry, vocabulary):
            for code in entry["modalities"]:
                pair = (factor.key, code)
                if pair in covered:
                    problems.append(f"{at}: {factor.kind} {factor.code} x {code} is also "
                                    f"covered by entries[{covered[pair]}]")
                covered[pair] = i
                verdicts[(factor.code, code)] = verdict
    if problems:
        return problems
    for factor in factors_of(vocabulary):
        missing = [m for m in modality_codes if (factor.key, m) not in covered]
        if missing:
            problems.append(f"{MATRIX_FILE}: no verdict for {factor.kind} {factor.code} x "
                            f"{', '.join(missing)}")
    if problems:
        return problems
    for kind in ("conditions", "medications"):
        for code, term in vocabulary.terms(kind).items():
            for target in term.implies:
                for modality in modality_codes:
                    mine, theirs = verdicts[(code, modality)], verdicts[(target, modality)]
                    if _SEVERITY[mine] < _SEVERITY[theirs]:
                        problems.append(
                            f"{MATRIX_FILE}: {code} x {modality} is {mine} but {code} implies "
                            f"{target}, which is {theirs} there")
    return problems


# --------------------------------------------------------------------------- building


def _leaves(entry: Mapping[str, typing.Any], vocabulary: Vocabulary) -> list[Predicate]:
    from dermatrack.knowledge import rules as kb

    leaves: list[Predicate] = []
    for code in entry.get("conditions", []):
        term = vocabulary.conditions[code]
        leaves.append(kb.Allergy(code) if term.group == "allergy" else kb.Condition(code))
    for code, exposure in _medications(entry).items():
        if exposure == "ever":
            leaves.append(kb.Medication(code, ever=True))
        elif isinstance(exposure, dict):
            leaves.append(kb.Medication(code, exposure.get("within_days"),
                                        within_months=exposure.get("within_months")))
        else:
            leaves.append(kb.Medication(code))
    if entry.get("age_bands"):
        leaves.append(kb.AgeBand(tuple(entry["age_bands"])))
    if entry.get("skin_types"):
        leaves.append(kb.Fitzpatrick(tuple(entry["skin_types"])))
    if entry.get("sexes"):
        leaves.append(kb.Sex(tuple(entry["sexes"])))
    return leaves


def build_matrix(matrix: Mapping[str, typing.Any], sources: Mapping[str, typing.Any],
                 vocabulary: Vocabulary) -> tuple[Matrix, dict[str, tuple[Rule, ...]]]:
    """The :class:`Matrix` and each modality's rules, from data that passed validation."""
    from dermatrack.knowledge import rules as kb

    catalogue = {code: Source(code, raw["kind"], raw["citation"], raw.get("url"))
                 for code, raw in sources["sources"].items()}
    cells: dict[tuple[str, str], Cell] = {}
    rules: dict[str, list[Rule]] = {code: [] for code in vocabulary.modalities}
    for i, entry in enumerate(matrix["entries"]):
        meds = _medications(entry)
        verdict = entry["verdict"]
        leaves = _leaves(entry, vocabulary) if verdict != "no_effect" else []
        for modality in entry["modalities"]:
            source = catalogue[str(_source_id(entry, modality))]
            rule_id = f"{modality}.{entry['rule']}" if entry.get("rule") else None
            for factor in _entry_factors(entry, vocabulary):
                exposure = (exposure_text(meds.get(factor.code))
                            if factor.kind == "medication" else None)
                cells[(factor.key, modality)] = Cell(
                    factor=factor, modality=modality, verdict=verdict, rule=rule_id,
                    rationale=entry["rationale"], mitigation=entry.get("mitigation"),
                    source=source, basis=entry["basis"], exposure=exposure, entry=i)
            if rule_id is not None:
                rules[modality].append(kb.Rule(
                    id=rule_id, kind="absolute" if verdict == "contraindicated" else "relative",
                    when=leaves[0] if len(leaves) == 1 else kb.Any(tuple(leaves)),
                    text=entry["rationale"], mitigation=entry.get("mitigation"),
                    source=source.id))
    built = Matrix(factors=factors_of(vocabulary), modalities=tuple(vocabulary.modalities),
                   cells=cells, sources=catalogue,
                   short_codes={code: short_code(code, vocabulary)
                                for code in vocabulary.modalities})
    return built, {code: tuple(items) for code, items in rules.items()}


def source_reference(source: Source) -> Reference:
    """A matrix source as a modality :class:`~dermatrack.knowledge.modalities.Reference`."""
    from dermatrack.knowledge.rules import Reference

    return Reference(source.id, source.citation, source.url, kind=source.kind)


@PerVocabulary
def _loaded(vocabulary: Vocabulary) -> tuple[Matrix, dict[str, tuple[Rule, ...]]]:
    matrix, sources = read_matrix_data()
    problems = validate_matrix_data(matrix, sources, vocabulary)
    if problems:
        raise DermatrackError("invalid bundled contraindication matrix: " + "; ".join(problems))
    return build_matrix(matrix, sources, vocabulary)


def load_matrix(vocabulary: Vocabulary) -> Matrix:
    """The bundled contraindication matrix, validated against ``vocabulary`` (callers pass
    the bundled one, :func:`dermatrack.knowledge.vocabulary.load_vocabulary`; cached per
    vocabulary).

    Raises
    ------
    DermatrackError
        If matrix.yaml or sources.yaml is invalid or incomplete.
    """
    return _loaded(vocabulary)[0]


def rules_for(modality: str, vocabulary: Vocabulary) -> tuple[Rule, ...]:
    """The screening rules the bundled matrix (:func:`load_matrix` of ``vocabulary``) gives
    ``modality`` (empty for unknown codes)."""
    return _loaded(vocabulary)[1].get(modality, ())


# --------------------------------------------------------------------------- views

#: One-character marks for the grid views.
VERDICT_MARK: dict[str, str] = {"contraindicated": "X", "caution": "!", "no_effect": "."}

CSV_COLUMNS: tuple[str, ...] = ("factor_kind", "factor", "factor_label", "modality", "verdict",
                                "rule", "exposure", "rationale", "mitigation", "basis",
                                "source", "source_kind", "citation")


def short_code(modality: str, vocabulary: Vocabulary) -> str:
    """A column heading for a modality: its ``abbreviation`` in ``vocabulary``
    (``rf_microneedling`` -> ``RFM``), else the code itself."""
    term = vocabulary.modalities.get(modality)
    return term.abbreviation if term is not None and term.abbreviation else modality


def matrix_json(matrix: Matrix, modality: str | None = None) -> dict[str, typing.Any]:
    """The matrix (or one modality's column) as plain data for JSON output."""
    codes = list(matrix.modalities) if modality is None else [modality]
    rows = matrix.rows(modality)
    counts = {verdict: sum(1 for c in rows if c.verdict == verdict)
              for verdict in MATRIX_VERDICTS}
    return {"modalities": codes,
            "factors": [{"kind": f.kind, "code": f.code, "label": f.label}
                        for f in matrix.factors],
            "counts": counts, "cells": [cell.to_dict() for cell in rows]}


def matrix_csv(matrix: Matrix, modality: str | None = None) -> str:
    """One line per (factor, modality) with :data:`CSV_COLUMNS`, RFC 4180 quoting."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for cell in matrix.rows(modality):
        writer.writerow({k: ("" if v is None else v) for k, v in cell.to_dict().items()})
    return out.getvalue()


def _md(text: str | None) -> str:
    return "" if text is None else text.replace("|", "\\|").replace("\n", " ")


MARKDOWN_HEADER = """# Contraindication matrix

Generated from `src/dermatrack/knowledge/data/matrix.yaml` and `sources.yaml` by
`python -m dermatrack.knowledge.matrix > docs/contraindication-matrix.md`; a test fails when
it is out of date. `dermatrack kb matrix` prints the same data (`--format table|csv|json`,
`--modality M`), and the web app shows it at `/knowledge/matrix`.

Every factor of the vocabulary (conditions, allergies, medications, age bands, Fitzpatrick
types, sex) has an explicit verdict for every modality: **X** contraindicated (a hard stop,
resting on a label, guideline, consensus statement or peer-reviewed paper), **!** caution
(proceed with the mitigation, which the plan adds to pre-care), **.** no effect on the
decision. The basis says how the source supports the verdict: *stated* (the source says so),
*inferred* (follows from what it states), *not_listed* (the source was reviewed and names no
restriction). How the verdicts were reviewed: docs/knowledge-data.md.
"""


def matrix_markdown(matrix: Matrix) -> str:
    """The whole matrix as Markdown: the grid, then every cell with its reason and source."""
    codes = list(matrix.modalities)
    lines = [MARKDOWN_HEADER]
    counts = matrix.counts()
    lines.append(f"{len(matrix.factors)} factors x {len(codes)} modalities = "
                 f"{len(matrix.cells)} verdicts: {counts['contraindicated']} contraindicated, "
                 f"{counts['caution']} caution, {counts['no_effect']} no effect.\n")
    heading = {c: matrix.short_codes.get(c, c) for c in codes}
    lines.append("Columns: " + ", ".join(f"{heading[c]} `{c}`" for c in codes) + ".\n")
    lines.append("## Grid\n")
    lines.append("| factor | kind | " + " | ".join(heading[c] for c in codes) + " |")
    lines.append("|---|---|" + "---|" * len(codes))
    for factor in matrix.factors:
        marks = [VERDICT_MARK[matrix.cell(factor.key, c).verdict] for c in codes]
        lines.append(f"| `{factor.code}` | {factor.kind.replace('_', ' ')} | "
                     + " | ".join(marks) + " |")
    lines.append("")
    lines.append("## Verdicts with reasons\n")
    for factor in matrix.factors:
        lines.append(f"### {factor.kind.replace('_', ' ')} `{factor.code}`: {_md(factor.label)}\n")
        lines.append("| modality | verdict | rule | exposure | why | mitigation | basis | source |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for code in codes:
            cell = matrix.cell(factor.key, code)
            lines.append(
                f"| {code} | {cell.verdict} | {cell.rule or ''} | {cell.exposure or ''} | "
                f"{_md(cell.rationale)} | {_md(cell.mitigation)} | {cell.basis} | "
                f"{cell.source.id} ({cell.source.kind}) |")
        lines.append("")
    lines.append("## Sources\n")
    used = sorted({cell.source.id for cell in matrix.cells.values()})
    for code in used:
        source = matrix.sources[code]
        url = f" <{source.url}>" if source.url else ""
        lines.append(f"- `{code}` ({source.kind}): {_md(source.citation)}{url}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - exercised by the docs test through matrix_markdown
    import sys

    from dermatrack.knowledge.vocabulary import load_vocabulary

    sys.stdout.write(matrix_markdown(load_matrix(load_vocabulary())))

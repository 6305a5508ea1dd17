"""Typed, validated access to the bundled modality data.

Each treatment modality has ``knowledge/data/modalities/<code>.yaml`` (shape in
``docs/knowledge-data.md``, schema in ``knowledge/data/schema/modality.schema.json``): the
concerns it treats and how well, its contraindication rules, its protocol with parameter
ranges, the reactions to expect, adverse events with reported rates, care instructions,
supported combinations and the references every figure cites.

:func:`load_modalities` turns those files into frozen dataclasses after checking them;
:func:`validate_all` reports every problem in every bundled knowledge file (records,
modality data, vocabulary) without raising, for ``dermatrack kb validate``.

The JSON Schema checks shape only. Everything that depends on other data is checked here:
vocabulary codes, reference ids, unique rule ids, ``min <= default <= max``, and that a
relative rule says how to mitigate the risk. Messages name the file and the path inside it,
for example ``modalities/ipl.yaml: contraindications[2].mitigation: ...``.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from dermatrack.errors import DermatrackError, NotFoundError
from dermatrack.knowledge.record import FIELDS
from dermatrack.knowledge.vocabulary import (
    FITZPATRICK,
    VOCABULARY_FILE,
    VOCABULARY_SCHEMA,
    Vocabulary,
    load_vocabulary,
    read_vocabulary_data,
    vocabulary_from_data,
)

MODALITY_SCHEMA = "modality.schema.json"

#: Fields of a seed-format record, in order (seed 000).
RECORD_FIELDS: tuple[str, ...] = FIELDS

# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Range:
    """A closed numeric interval with an optional usual value.

    Parameters
    ----------
    min, max : float
        Inclusive bounds, in the unit of whatever the range measures.
    default : float or None
        The usual starting value, ``min <= default <= max``.
    """

    min: float
    max: float
    default: float | None = None

    def contains(self, value: float) -> bool:
        """True when ``min <= value <= max``."""
        return self.min <= value <= self.max


@dataclass(frozen=True)
class Condition:
    """True when the patient has the vocabulary condition ``code``."""

    code: str


@dataclass(frozen=True)
class Medication:
    """True when the patient takes the vocabulary medication ``code``.

    ``within_days``: also true when it was last taken at most this many days before the
    screening date. ``within_months``: also true when the screening date is at most this
    many calendar months after the day it was last taken (the anniversary day included;
    a 31st moves to the month's last day). ``ever``: true for any recorded use, current or
    past, dated or not. With none of them, current use only.
    """

    code: str
    within_days: int | None = None
    within_months: int | None = None
    ever: bool = False

    @property
    def exposure(self) -> str:
        """``current``, ``ever``, ``within N calendar months`` or ``within N days``."""
        if self.ever:
            return "ever"
        if self.within_months is not None:
            return f"within {self.within_months} calendar months"
        if self.within_days is not None:
            return f"within {self.within_days} days"
        return "current"


@dataclass(frozen=True)
class Allergy:
    """True when the patient has the hypersensitivity ``code``.

    Allergies are vocabulary *condition* codes (``lidocaine_allergy``,
    ``hypersensitivity_plla``); this predicate marks the rule as an allergy rule.
    """

    code: str


@dataclass(frozen=True)
class Fitzpatrick:
    """True when the patient's Fitzpatrick skin type is one of ``types``."""

    types: tuple[str, ...]


@dataclass(frozen=True)
class AgeBelow:
    """True when the patient is younger than ``years`` on the screening date."""

    years: int


@dataclass(frozen=True)
class AgeAtLeast:
    """True when the patient is ``years`` old or older on the screening date."""

    years: int


@dataclass(frozen=True)
class AgeBand:
    """True when the patient's age falls in one of the vocabulary age bands ``codes``."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class Sex:
    """True when the patient's sex is one of ``codes`` (no sex recorded counts as unknown)."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class All:
    """True when every predicate in ``predicates`` is true."""

    predicates: tuple[Predicate, ...]


@dataclass(frozen=True)
class Any:
    """True when at least one predicate in ``predicates`` is true."""

    predicates: tuple[Predicate, ...]


Predicate = (Condition | Medication | Allergy | Fitzpatrick | AgeBelow | AgeAtLeast | AgeBand
             | Sex | All | Any)


def iter_leaves(predicate: Predicate) -> Iterator[Predicate]:
    """Yield the non-composite predicates of a predicate tree, depth first."""
    if isinstance(predicate, All | Any):
        for child in predicate.predicates:
            yield from iter_leaves(child)
    else:
        yield predicate


@dataclass(frozen=True)
class Rule:
    """A contraindication rule.

    Parameters
    ----------
    id : str
        Unique across the knowledge base, ``<modality>.<name>`` (``ipl.recent_tan``).
    kind : {"absolute", "relative"}
        ``absolute`` is a hard stop; ``relative`` means proceed with caution and the
        ``mitigation``.
    when : Predicate
        The patient state that triggers the rule.
    text : str
        Why, in one or two sentences for the clinician.
    mitigation : str or None
        What lowers the risk; always present for relative rules.
    source : str
        Reference id in the modality's ``references``.
    """

    id: str
    kind: str
    when: Predicate
    text: str
    mitigation: str | None
    source: str


@dataclass(frozen=True)
class ConcernEffect:
    """How well a modality treats a concern.

    ``efficacy`` is 1 (modest), 2 (good) or 3 (strong); ``evidence`` is ``"high"``,
    ``"moderate"`` or ``"low"``; ``severity_range`` is the span of severities (1-4) it
    suits, or None when not restricted.
    """

    code: str
    efficacy: int
    evidence: str
    severity_range: tuple[int, int] | None
    source: str


@dataclass(frozen=True)
class Parameter:
    """A device or product setting with its allowed range, overall and per region.

    Parameters
    ----------
    code, label, unit : str
        ``unit`` is written out (``mm``, ``J/cm2``, ``%``, ``min``, ``mL``, ``passes``).
    min, max, default : float
        The overall allowed range and usual start.
    by_region : dict of str to Range
        Narrower usual ranges for vocabulary regions, where anatomy matters.
    source : str
        Reference id.
    agent : str or None
        For alternatives that are not combined in one session (the acids of a
        superficial peel): which agent the parameter belongs to; a plan proposes the
        parameters of one agent only, the first listed.
    note : str or None
        How to read the range (for example that regional values are starting points).
    """

    code: str
    label: str
    unit: str
    min: float
    max: float
    default: float
    by_region: Mapping[str, Range]
    source: str
    note: str | None = None
    agent: str | None = None

    def range_for(self, region: str | None) -> Range:
        """The usual range for ``region`` (imaging aliases accepted), else the overall one."""
        if region is not None:
            region = load_vocabulary().canonical_region(region)
            if region in self.by_region:
                return self.by_region[region]
        return Range(self.min, self.max, self.default)


@dataclass(frozen=True)
class Protocol:
    """A course of treatment: ``sessions`` (count), ``interval_days`` between sessions
    (None for single-session procedures), maintenance advice and the parameters."""

    sessions: Range
    interval_days: Range | None
    maintenance: str | None
    parameters: tuple[Parameter, ...]


@dataclass(frozen=True)
class Reaction:
    """An expected, normal response and how many days it usually lasts."""

    code: str
    label: str
    usual_duration_days: float
    source: str


@dataclass(frozen=True)
class AdverseEventRate:
    """An adverse event with its reported rate in percent of treatments or patients
    (None when reported without a usable rate; ``note`` then says what is known)."""

    code: str
    label: str
    rate_percent: float | None
    note: str | None
    source: str


@dataclass(frozen=True)
class Combination:
    """A combination with another modality that the cited evidence supports."""

    with_modality: str
    note: str
    source: str


@dataclass(frozen=True)
class RegionExclusion:
    """A region the modality must not treat, with the reason and source."""

    region: str
    text: str
    source: str


@dataclass(frozen=True)
class Reference:
    """A citable source; ``url`` where one is known; ``kind`` (``label``, ``consensus``,
    ``peer_reviewed``, ...) for the sources of the contraindication matrix."""

    id: str
    citation: str
    url: str | None
    kind: str | None = None


@dataclass(frozen=True)
class Modality:
    """Everything dermatrack knows about one treatment modality (see module docstring)."""

    code: str
    name: str
    record: str
    category: str
    depth: str
    pih_risk: str
    concerns: tuple[ConcernEffect, ...]
    contraindications: tuple[Rule, ...]
    protocol: Protocol
    expected_reactions: tuple[Reaction, ...]
    adverse_events: tuple[AdverseEventRate, ...]
    downtime_days: Range
    pre_care: tuple[str, ...]
    post_care: tuple[str, ...]
    combinations: tuple[Combination, ...]
    references: tuple[Reference, ...]
    excluded_regions: tuple[RegionExclusion, ...] = ()

    def reference(self, id: str) -> Reference:
        """The reference with this id.

        Raises
        ------
        NotFoundError
            If the modality declares no such reference.
        """
        for ref in self.references:
            if ref.id == id:
                return ref
        raise NotFoundError(f"modality {self.code!r} has no reference {id!r}")

    def parameter(self, code: str) -> Parameter:
        """The protocol parameter with this code (NotFoundError if absent)."""
        for parameter in self.protocol.parameters:
            if parameter.code == code:
                return parameter
        raise NotFoundError(f"modality {self.code!r} has no parameter {code!r}")

    def concern(self, code: str) -> ConcernEffect | None:
        """The effect on concern ``code``, or None when the modality does not treat it."""
        return next((c for c in self.concerns if c.code == code), None)


# --------------------------------------------------------------------------- reading


def _data_dir() -> typing.Any:
    return resources.files("dermatrack.knowledge").joinpath("data")


@lru_cache(maxsize=2)
def _schema(filename: str) -> dict[str, typing.Any]:
    return json.loads(_data_dir().joinpath("schema", filename).read_text(encoding="utf-8"))


def _read_modality_files() -> dict[str, typing.Any]:
    """Map ``modalities/<file>`` to its parsed YAML (a string on a YAML syntax error)."""
    out: dict[str, typing.Any] = {}
    folder = _data_dir().joinpath("modalities")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            out[f"modalities/{entry.name}"] = yaml.safe_load(entry.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            out[f"modalities/{entry.name}"] = f"not valid YAML: {exc}".replace("\n", " ")
    return out


# --------------------------------------------------------------------------- validation


def _path(parts: typing.Iterable[object]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _schema_problems(data: object, schema_file: str, name: str) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema(schema_file))
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        message = error.message
        if error.validator == "oneOf":  # the predicate is the schema's only oneOf
            message = (
                "not a valid predicate: expected exactly one of condition, medication "
                "(with optional within_days), allergy, fitzpatrick, age_below, age_at_least, "
                "all, any"
            )
        problems.append(f"{name}: {_path(error.absolute_path)}: {message}")
    return problems


def _check_range(
    raw: Mapping[str, typing.Any], where: str, problems: list[str], *, need_default: bool
) -> None:
    low, high, default = raw["min"], raw["max"], raw.get("default")
    if low > high:
        problems.append(f"{where}: min {low} is greater than max {high}")
    if default is None:
        if need_default:
            problems.append(f"{where}.default: a default is required here")
    elif not low <= default <= high:
        problems.append(f"{where}.default: {default} is outside min..max ({low}..{high})")


def validate_vocabulary_data(data: object, *, name: str = VOCABULARY_FILE) -> list[str]:
    """Every problem in a parsed vocabulary mapping; empty when it is valid.

    Checks the schema, that aliases point at regions, that escalations point at adverse
    events, and that the skin types are exactly Fitzpatrick I-VI.
    """
    problems = _schema_problems(data, VOCABULARY_SCHEMA, name)
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


def _predicate_problems(
    raw: Mapping[str, typing.Any], where: str, vocab: Vocabulary, problems: list[str]
) -> None:
    if "all" in raw or "any" in raw:
        key = "all" if "all" in raw else "any"
        for i, child in enumerate(raw[key]):
            _predicate_problems(child, f"{where}.{key}[{i}]", vocab, problems)
        return
    if "condition" in raw and raw["condition"] not in vocab.conditions:
        problems.append(f"{where}.condition: unknown condition code {raw['condition']!r}")
    if "allergy" in raw and raw["allergy"] not in vocab.conditions:
        problems.append(f"{where}.allergy: unknown condition code {raw['allergy']!r}")
    if "medication" in raw:
        term = vocab.medications.get(raw["medication"])
        if term is None:
            problems.append(f"{where}.medication: unknown medication code {raw['medication']!r}")
        elif (raw.get("within_days") is not None or raw.get("within_months") is not None) and (
                not term.needs_last_taken):
            key = "within_days" if raw.get("within_days") is not None else "within_months"
            problems.append(
                f"{where}.{key}: medication {term.code!r} has no last-taken date in the "
                "vocabulary (needs_last_taken), so a time window cannot be checked"
            )


def validate_modality_data(
    data: object, *, name: str, vocabulary: Vocabulary | None = None
) -> list[str]:
    """Every problem in one parsed modality mapping; empty when it is valid.

    Parameters
    ----------
    data : object
        The mapping read from a modality YAML file (or built in a test).
    name : str
        How messages name the file, e.g. ``"modalities/ipl.yaml"``.
    vocabulary : Vocabulary, optional
        The vocabulary to resolve codes against; the bundled one by default.

    Returns
    -------
    list of str
        One line per problem, ``"<name>: <path>: <what is wrong>"``. Schema problems are
        reported alone, since cross-references cannot be checked on a broken shape.
    """
    problems = _schema_problems(data, MODALITY_SCHEMA, name)
    if problems or not isinstance(data, dict):
        return problems
    vocab = vocabulary or load_vocabulary()
    code = data["code"]
    refs = [r["id"] for r in data["references"]]
    ref_ids = set(refs)

    def at(path: str) -> str:
        return f"{name}: {path}"

    def cite(item: Mapping[str, typing.Any], path: str) -> None:
        if item["source"] not in ref_ids:
            problems.append(at(f"{path}.source: {item['source']!r} is not a reference id"))

    def unique(items: list[typing.Any], key: str, path: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            value = item[key]
            if value in seen:
                problems.append(at(f"{path}[{i}].{key}: duplicate {value!r}"))
            seen.add(value)

    if code not in vocab.modalities:
        problems.append(at(f"code: {code!r} is not a vocabulary modality"))
    unique(data["references"], "id", "references")

    unique(data["concerns"], "code", "concerns")
    for i, concern in enumerate(data["concerns"]):
        path = f"concerns[{i}]"
        if concern["code"] not in vocab.concerns:
            close = difflib.get_close_matches(concern["code"], list(vocab.concerns), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            problems.append(at(f"{path}.code: unknown concern code {concern['code']!r}{hint}"))
        low_high = concern.get("severity_range")
        if low_high is not None and low_high[0] > low_high[1]:
            problems.append(at(f"{path}.severity_range: {low_high[0]} > {low_high[1]}"))
        cite(concern, path)

    unique(data.get("contraindications", []), "id", "contraindications")
    for i, rule in enumerate(data.get("contraindications", [])):
        path = f"contraindications[{i}]"
        if not rule["id"].startswith(f"{code}."):
            problems.append(at(f"{path}.id: {rule['id']!r} must start with '{code}.'"))
        if rule["kind"] == "relative" and not rule.get("mitigation"):
            problems.append(at(f"{path}.mitigation: a relative rule needs a mitigation"))
        _predicate_problems(rule["when"], at(f"{path}.when"), vocab, problems)
        cite(rule, path)

    for i, excluded in enumerate(data.get("excluded_regions", [])):
        path = f"excluded_regions[{i}]"
        if excluded["region"] not in vocab.regions:
            problems.append(at(f"{path}.region: unknown region code {excluded['region']!r}"))
        cite(excluded, path)

    protocol = data["protocol"]
    _check_range(protocol["sessions"], at("protocol.sessions"), problems, need_default=True)
    if protocol["sessions"]["min"] < 1:
        problems.append(at("protocol.sessions.min: at least one session"))
    if protocol["interval_days"] is None:
        if protocol["sessions"]["max"] != 1:
            problems.append(at("protocol.interval_days: required when more than one session"))
    else:
        _check_range(protocol["interval_days"], at("protocol.interval_days"), problems,
                     need_default=True)
    unique(protocol["parameters"], "code", "protocol.parameters")
    for i, param in enumerate(protocol["parameters"]):
        path = f"protocol.parameters[{i}]"
        _check_range(param, at(path), problems, need_default=True)
        for region, bounds in param.get("by_region", {}).items():
            where = f"{path}.by_region.{region}"
            if region not in vocab.regions:
                problems.append(at(f"{where}: unknown region code {region!r}"))
            _check_range(bounds, at(where), problems, need_default=True)
            if bounds["min"] < param["min"] or bounds["max"] > param["max"]:
                problems.append(
                    at(f"{where}: {bounds['min']}..{bounds['max']} reaches outside the overall "
                       f"range {param['min']}..{param['max']}")
                )
        cite(param, path)

    unique(data["expected_reactions"], "code", "expected_reactions")
    for i, reaction in enumerate(data["expected_reactions"]):
        if reaction["code"] not in vocab.expected_reactions:
            problems.append(at(f"expected_reactions[{i}].code: unknown expected-reaction code "
                               f"{reaction['code']!r}"))
        cite(reaction, f"expected_reactions[{i}]")
    unique(data["adverse_events"], "code", "adverse_events")
    for i, event in enumerate(data["adverse_events"]):
        if event["code"] not in vocab.adverse_events:
            problems.append(at(f"adverse_events[{i}].code: unknown adverse-event code "
                               f"{event['code']!r}"))
        if event["rate_percent"] is None and not event.get("note"):
            problems.append(at(f"adverse_events[{i}].note: say what is known when no rate is "
                               "given"))
        cite(event, f"adverse_events[{i}]")

    _check_range(data["downtime_days"], at("downtime_days"), problems, need_default=False)

    for i, combo in enumerate(data["combinations"]):
        path = f"combinations[{i}]"
        if combo["with"] not in vocab.modalities:
            problems.append(at(f"{path}.with: unknown modality code {combo['with']!r}"))
        elif combo["with"] == code:
            problems.append(at(f"{path}.with: a modality cannot combine with itself"))
        cite(combo, path)
    return problems


def _check_records(problems: list[str]) -> set[str]:
    """Parse every bundled record; return the stems of those that are complete.

    A complete record is one record per file, with all 15 fields present and non-empty,
    list fields written as lists and scalar fields as one line (the shape of seed 000), and
    no unknown fields.
    """
    from dermatrack.knowledge.record import LIST_FIELDS, parse_records

    good: set[str] = set()
    folder = _data_dir().joinpath("records")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".txt"):
            continue
        name = f"records/{entry.name}"
        try:
            records = parse_records(entry.read_text(encoding="utf-8"), source=name)
        except DermatrackError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if len(records) != 1:
            problems.append(f"{name}: expected exactly one record, found {len(records)}")
            continue
        record, before = records[0], len(problems)
        for field_name in RECORD_FIELDS:
            value = record.values.get(field_name.replace(" ", "_"))
            if not value:
                problems.append(f"{name}: {field_name}: missing or empty")
            elif (field_name in LIST_FIELDS) != isinstance(value, list):
                shape = "a numbered list" if field_name in LIST_FIELDS else "one line of text"
                problems.append(f"{name}: {field_name}: expected {shape}, as in seed 000")
        if record.extra:
            problems.append(f"{name}: unknown fields: {', '.join(record.extra)}")
        if len(problems) == before:
            good.add(entry.name[: -len(".txt")])
    return good


def validate_all() -> list[str]:
    """Check every bundled knowledge file; return one line per problem (empty when valid).

    Covers: the vocabulary (schema and internal references); every modality file (schema,
    cross-references, file stem equal to its code, unique rule ids across files); one
    modality file per vocabulary modality; every record parsing with
    :func:`dermatrack.knowledge.record.parse_records` with all 15 fields; every record
    named by a modality or concern existing.
    """
    problems: list[str] = []
    try:
        vocab_data = read_vocabulary_data()
    except (OSError, yaml.YAMLError, DermatrackError) as exc:
        return [f"{VOCABULARY_FILE}: cannot be read: {exc}".replace("\n", " ")]
    vocab_problems = validate_vocabulary_data(vocab_data)
    problems += vocab_problems
    if vocab_problems and _schema_problems(vocab_data, VOCABULARY_SCHEMA, VOCABULARY_FILE):
        return problems  # codes cannot be resolved against a malformed vocabulary
    vocab = vocabulary_from_data(vocab_data)

    files = _read_modality_files()
    rule_owner: dict[str, str] = {}
    for name, data in files.items():
        if isinstance(data, str):
            problems.append(f"{name}: {data}")
            continue
        file_problems = validate_modality_data(data, name=name, vocabulary=vocab)
        problems += file_problems
        if file_problems:
            continue
        stem = name.rsplit("/", 1)[1][: -len(".yaml")]
        if data["code"] != stem:
            problems.append(f"{name}: code: {data['code']!r} differs from the file name")
        for i, rule in enumerate(data.get("contraindications", [])):
            if rule["id"] in rule_owner:
                problems.append(f"{name}: contraindications[{i}].id: {rule['id']!r} is also "
                                f"declared in {rule_owner[rule['id']]}")
            rule_owner[rule["id"]] = name
        if data.get("contraindications"):
            problems.append(f"{name}: contraindications: the bundled rules live in matrix.yaml; "
                            "move these there")
    from dermatrack.knowledge.matrix import read_matrix_data, validate_matrix_data

    try:
        matrix_data, sources_data = read_matrix_data()
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"matrix.yaml or sources.yaml: cannot be read: {exc}".replace("\n", " "))
    else:
        problems += validate_matrix_data(matrix_data, sources_data, vocab)
    stems = {name.rsplit("/", 1)[1][: -len(".yaml")] for name in files}
    for code in vocab.modalities:
        if code not in stems:
            problems.append(f"modalities/{code}.yaml: missing (vocabulary modality {code!r})")

    try:
        records = _check_records(problems)
    except ImportError as exc:
        problems.append(f"records: cannot be checked, the record parser is missing ({exc})")
        return problems
    for name, data in files.items():
        if isinstance(data, dict) and isinstance(data.get("record"), str) and (
            data["record"] not in records
        ):
            problems.append(f"{name}: record: no valid record {data['record']!r}.txt")
    for kind in ("modalities", "concerns"):
        for code, term in vocab.terms(kind).items():
            if term.record is not None and term.record not in records:
                problems.append(f"{VOCABULARY_FILE}: {kind}.{code}.record: "
                                f"no valid record {term.record!r}.txt")
    return problems


# --------------------------------------------------------------------------- building


def _predicate(raw: Mapping[str, typing.Any]) -> Predicate:
    if "all" in raw:
        return All(tuple(_predicate(p) for p in raw["all"]))
    if "any" in raw:
        return Any(tuple(_predicate(p) for p in raw["any"]))
    if "condition" in raw:
        return Condition(raw["condition"])
    if "medication" in raw:
        return Medication(raw["medication"], raw.get("within_days"),
                          within_months=raw.get("within_months"), ever=bool(raw.get("ever")))
    if "allergy" in raw:
        return Allergy(raw["allergy"])
    if "fitzpatrick" in raw:
        return Fitzpatrick(tuple(raw["fitzpatrick"]))
    if "age_below" in raw:
        return AgeBelow(raw["age_below"])
    return AgeAtLeast(raw["age_at_least"])


def _range(raw: Mapping[str, typing.Any]) -> Range:
    return Range(raw["min"], raw["max"], raw.get("default"))


def modality_from_data(data: Mapping[str, typing.Any]) -> Modality:
    """Build a :class:`Modality` from a mapping that :func:`validate_modality_data` passed."""
    protocol = data["protocol"]
    return Modality(
        code=data["code"],
        name=data["name"],
        record=data["record"],
        category=data["category"],
        depth=data["depth"],
        pih_risk=data["pih_risk"],
        concerns=tuple(
            ConcernEffect(
                c["code"], c["efficacy"], c["evidence"],
                (c["severity_range"][0], c["severity_range"][1])
                if c.get("severity_range") else None,
                c["source"],
            )
            for c in data["concerns"]
        ),
        contraindications=tuple(
            Rule(r["id"], r["kind"], _predicate(r["when"]), r["text"], r.get("mitigation"),
                 r["source"])
            for r in data.get("contraindications", [])
        ),
        protocol=Protocol(
            sessions=_range(protocol["sessions"]),
            interval_days=_range(protocol["interval_days"]) if protocol["interval_days"] else None,
            maintenance=protocol["maintenance"],
            parameters=tuple(
                Parameter(
                    code=p["code"], label=p["label"], unit=p["unit"], min=p["min"], max=p["max"],
                    default=p["default"],
                    by_region={k: _range(v) for k, v in p.get("by_region", {}).items()},
                    source=p["source"], note=p.get("note"), agent=p.get("agent"),
                )
                for p in protocol["parameters"]
            ),
        ),
        expected_reactions=tuple(
            Reaction(r["code"], r["label"], r["usual_duration_days"], r["source"])
            for r in data["expected_reactions"]
        ),
        adverse_events=tuple(
            AdverseEventRate(a["code"], a["label"], a["rate_percent"], a.get("note"), a["source"])
            for a in data["adverse_events"]
        ),
        downtime_days=_range(data["downtime_days"]),
        pre_care=tuple(data["pre_care"]),
        post_care=tuple(data["post_care"]),
        combinations=tuple(
            Combination(c["with"], c["note"], c["source"]) for c in data["combinations"]
        ),
        references=tuple(
            Reference(r["id"], r["citation"], r.get("url")) for r in data["references"]
        ),
        excluded_regions=tuple(
            RegionExclusion(e["region"], e["text"], e["source"])
            for e in data.get("excluded_regions", [])
        ),
    )


@lru_cache(maxsize=1)
def load_modalities() -> dict[str, Modality]:
    """Load every bundled modality, checked, keyed by code in vocabulary order (cached).

    Raises
    ------
    DermatrackError
        If any bundled modality file or the vocabulary is invalid (the message lists the
        problems); records are not needed here and are checked by :func:`validate_all`.
    """
    vocab = load_vocabulary()
    files = _read_modality_files()
    problems: list[str] = []
    built: dict[str, Modality] = {}
    for name, data in files.items():
        if isinstance(data, str):
            problems.append(f"{name}: {data}")
            continue
        file_problems = validate_modality_data(data, name=name, vocabulary=vocab)
        problems += file_problems
        if not file_problems:
            built[data["code"]] = modality_from_data(data)
    missing = [code for code in vocab.modalities if code not in built]
    if missing and not problems:
        problems.append(f"no modality data for: {', '.join(missing)}")
    if problems:
        raise DermatrackError("invalid bundled modality data: " + "; ".join(problems))
    return {code: with_matrix_rules(built[code]) for code in vocab.modalities}


def with_matrix_rules(modality: Modality) -> Modality:
    """``modality`` with the bundled contraindication matrix's rules and their sources added.

    The matrix (:mod:`dermatrack.knowledge.matrix`) is where the bundled rules live; a
    modality file may still carry its own ``contraindications`` (synthetic modalities in
    tests do), which come first.
    """
    import dataclasses

    from dermatrack.knowledge.matrix import load_matrix, rules_for, source_reference

    rules = rules_for(modality.code)
    if not rules:
        return modality
    catalogue = load_matrix().sources
    used = {rule.source for rule in rules}
    references = tuple(r for r in modality.references if r.id not in used) + tuple(
        source_reference(catalogue[code]) for code in sorted(used))
    return dataclasses.replace(modality, contraindications=modality.contraindications + rules,
                               references=references)


def load_modality(code: str) -> Modality:
    """The bundled modality ``code``.

    Raises
    ------
    NotFoundError
        If no modality has this code.
    """
    modalities = load_modalities()
    try:
        return modalities[code]
    except KeyError:
        raise NotFoundError(
            f"unknown modality {code!r}; known: {', '.join(modalities)}"
        ) from None

"""Checks of modality data and of every bundled knowledge file, as one message per problem.

The JSON Schema checks shape only. Everything that depends on other data is checked here:
vocabulary codes, reference ids, unique rule ids, ``min <= default <= max``, and that a
relative rule says how to mitigate the risk. Messages name the file and the path inside it,
for example ``modalities/ipl.yaml: contraindications[2].mitigation: ...``.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping

import yaml

from dermatrack.errors import DermatrackError
from dermatrack.knowledge import packaged
from dermatrack.knowledge.modalities import files as modality_files
from dermatrack.knowledge.modalities.model import MODALITY_SCHEMA, RECORD_FIELDS
from dermatrack.knowledge.vocabulary import (
    VOCABULARY_FILE,
    VOCABULARY_SCHEMA,
    Vocabulary,
    read_vocabulary_data,
    validate_vocabulary_data,
    vocabulary_from_data,
)


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
    data: object, *, name: str, vocabulary: Vocabulary
) -> list[str]:
    """Every problem in one parsed modality mapping; empty when it is valid.

    Parameters
    ----------
    data : object
        The mapping read from a modality YAML file (or built in a test).
    name : str
        How messages name the file, e.g. ``"modalities/ipl.yaml"``.
    vocabulary : Vocabulary
        The vocabulary to resolve codes against (callers pass the bundled one,
        :func:`dermatrack.knowledge.vocabulary.load_vocabulary`).

    Returns
    -------
    list of str
        One line per problem, ``"<name>: <path>: <what is wrong>"``. Schema problems are
        reported alone, since cross-references cannot be checked on a broken shape.
    """
    problems = packaged.schema_problems(data, MODALITY_SCHEMA, name)
    if problems or not isinstance(data, dict):
        return problems
    vocab = vocabulary
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
    folder = packaged.data_root().joinpath("records")
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
    if vocab_problems and packaged.schema_problems(vocab_data, VOCABULARY_SCHEMA, VOCABULARY_FILE):
        return problems  # codes cannot be resolved against a malformed vocabulary
    vocab = vocabulary_from_data(vocab_data)

    files = modality_files.read_modality_files()
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

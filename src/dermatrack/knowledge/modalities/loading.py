"""Building typed modalities from checked data, and the bundled modalities with the
contraindication matrix's rules (cached once per process)."""

from __future__ import annotations

import typing
from collections.abc import Mapping

from dermatrack.errors import DermatrackError, NotFoundError
from dermatrack.knowledge.modalities import files as modality_files
from dermatrack.knowledge.modalities.model import (
    AdverseEventRate,
    AgeAtLeast,
    AgeBelow,
    All,
    Allergy,
    Any,
    Combination,
    ConcernEffect,
    Condition,
    Fitzpatrick,
    Medication,
    Modality,
    Parameter,
    Predicate,
    Protocol,
    Range,
    Reaction,
    Reference,
    RegionExclusion,
    Rule,
)
from dermatrack.knowledge.modalities.validation import validate_modality_data
from dermatrack.knowledge.packaged import PerVocabulary
from dermatrack.knowledge.vocabulary import Vocabulary


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


def modality_from_data(data: Mapping[str, typing.Any], vocabulary: Vocabulary) -> Modality:
    """Build a :class:`Modality` from a mapping that :func:`validate_modality_data` passed
    against ``vocabulary`` (whose region aliases its parameters' regional ranges accept)."""
    protocol = data["protocol"]
    aliases = dict(vocabulary.region_aliases)
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
                    region_aliases=aliases,
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


@PerVocabulary
def load_modalities(vocabulary: Vocabulary) -> dict[str, Modality]:
    """Load every bundled modality, checked against ``vocabulary``, keyed by code in
    vocabulary order, with the bundled matrix's rules (cached per vocabulary).

    Parameters
    ----------
    vocabulary:
        The vocabulary codes are resolved against; callers (services, CLI, web) pass the
        bundled one, :func:`dermatrack.knowledge.vocabulary.load_vocabulary`.

    Raises
    ------
    DermatrackError
        If any bundled modality file or the vocabulary is invalid (the message lists the
        problems); records are not needed here and are checked by :func:`validate_all`.
    """
    vocab = vocabulary
    files = modality_files.read_modality_files()
    problems: list[str] = []
    built: dict[str, Modality] = {}
    for name, data in files.items():
        if isinstance(data, str):
            problems.append(f"{name}: {data}")
            continue
        file_problems = validate_modality_data(data, name=name, vocabulary=vocab)
        problems += file_problems
        if not file_problems:
            built[data["code"]] = modality_from_data(data, vocab)
    missing = [code for code in vocab.modalities if code not in built]
    if missing and not problems:
        problems.append(f"no modality data for: {', '.join(missing)}")
    if problems:
        raise DermatrackError("invalid bundled modality data: " + "; ".join(problems))
    return {code: with_matrix_rules(built[code], vocab) for code in vocab.modalities}


def with_matrix_rules(modality: Modality, vocabulary: Vocabulary) -> Modality:
    """``modality`` with the bundled contraindication matrix's rules and their sources added.

    The matrix (:mod:`dermatrack.knowledge.matrix`) is where the bundled rules live; a
    modality file may still carry its own ``contraindications`` (synthetic modalities in
    tests do), which come first.
    """
    import dataclasses

    from dermatrack.knowledge.matrix import load_matrix, rules_for, source_reference

    rules = rules_for(modality.code, vocabulary)
    if not rules:
        return modality
    catalogue = load_matrix(vocabulary).sources
    used = {rule.source for rule in rules}
    references = tuple(r for r in modality.references if r.id not in used) + tuple(
        source_reference(catalogue[code]) for code in sorted(used))
    return dataclasses.replace(modality, contraindications=modality.contraindications + rules,
                               references=references)


def load_modality(code: str, vocabulary: Vocabulary) -> Modality:
    """The bundled modality ``code`` (:func:`load_modalities` of ``vocabulary``).

    Raises
    ------
    NotFoundError
        If no modality has this code.
    """
    modalities = load_modalities(vocabulary)
    try:
        return modalities[code]
    except KeyError:
        raise NotFoundError(
            f"unknown modality {code!r}; known: {', '.join(modalities)}"
        ) from None

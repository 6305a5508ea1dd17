"""Typed, validated access to the bundled modality data.

Each treatment modality has ``knowledge/data/modalities/<code>.yaml`` (shape in
``docs/knowledge-data.md``, schema in ``knowledge/data/schema/modality.schema.json``): the
concerns it treats and how well, its contraindication rules, its protocol with parameter
ranges, the reactions to expect, adverse events with reported rates, care instructions,
supported combinations and the references every figure cites.

:func:`load_modalities` turns those files into frozen dataclasses after checking them;
:func:`validate_all` reports every problem in every bundled knowledge file (records,
modality data, vocabulary) without raising, for ``dermatrack kb validate``.

This package is the public face of three modules, one topic each:
:mod:`~dermatrack.knowledge.modalities.model` (the dataclasses),
:mod:`~dermatrack.knowledge.modalities.validation` (the checks) and
:mod:`~dermatrack.knowledge.modalities.loading` (building and caching the bundled
modalities); :mod:`~dermatrack.knowledge.modalities.files` reads the raw files. Modules
inside :mod:`dermatrack.knowledge` import the topic module they need, not this facade, so
that no import cycle runs through it.

The JSON Schema checks shape only. Everything that depends on other data is checked here:
vocabulary codes, reference ids, unique rule ids, ``min <= default <= max``, and that a
relative rule says how to mitigate the risk. Messages name the file and the path inside it,
for example ``modalities/ipl.yaml: contraindications[2].mitigation: ...``.
"""

from __future__ import annotations

from dermatrack.knowledge.modalities.loading import (
    load_modalities,
    load_modality,
    modality_from_data,
    with_matrix_rules,
)
from dermatrack.knowledge.modalities.model import (
    MODALITY_SCHEMA,
    RECORD_FIELDS,
    AdverseEventRate,
    AgeAtLeast,
    AgeBand,
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
    Sex,
    iter_leaves,
)
from dermatrack.knowledge.modalities.validation import (
    validate_all,
    validate_modality_data,
)

__all__ = [
    "AdverseEventRate",
    "AgeAtLeast",
    "AgeBand",
    "AgeBelow",
    "All",
    "Allergy",
    "Any",
    "Combination",
    "ConcernEffect",
    "Condition",
    "Fitzpatrick",
    "MODALITY_SCHEMA",
    "Medication",
    "Modality",
    "Parameter",
    "Predicate",
    "Protocol",
    "RECORD_FIELDS",
    "Range",
    "Reaction",
    "Reference",
    "RegionExclusion",
    "Rule",
    "Sex",
    "iter_leaves",
    "load_modalities",
    "load_modality",
    "modality_from_data",
    "validate_all",
    "validate_modality_data",
    "with_matrix_rules",
]

"""Patient intake: the clinical facts screening and planning need, checked on the way in.

The input is the ``PATIENT.json`` shape of issue 3::

    {"age": 34, "sex": "female", "fitzpatrick": "IV",
     "concerns": [{"code": "acne_scars", "region": "cheeks", "severity": 3}],
     "conditions": ["herpes_simplex_history"],
     "medications": [{"code": "isotretinoin", "last_taken": "2026-08-01"}],
     "allergies": []}

Every code comes from the knowledge base's controlled vocabulary
(:func:`dermatrack.knowledge.vocabulary.load_vocabulary`). Anything wrong raises
:class:`~dermatrack.errors.InputError` whose ``field`` is the path of the offending value
(``concerns[0].severity``, ``medications[1].last_taken``), with close matches suggested for
misspelt codes. The result, :class:`PatientProfile`, is an immutable value with no identity
or contact details: those stay in the store, apart from clinical data.

Allergies are vocabulary *condition* codes (``lidocaine_allergy``,
``hypersensitivity_plla``), as the knowledge base's allergy rules use them.

Age is either given (``age``, whole years at the screening date) or computed from
``date_of_birth`` at the screening date. A medication listed without ``last_taken`` is taken
to be current (``ongoing`` defaults to true then); one with a ``last_taken`` date is taken to
have stopped on that day unless ``ongoing`` says otherwise. ``started`` (optional) is the day
it was first taken. A stopped medication needs its ``last_taken`` date when the vocabulary
says rules look back from it (``needs_last_taken``); past use of others (gold therapy, whose
rules count any past use) may be recorded without a date.

Contradictory or implausible facts that are not errors (pregnancy or breastfeeding recorded
for a male patient, a medication last taken before it was started, an age that disagrees
with the date of birth) come back as :class:`PlausibilityWarning` in
``PatientProfile.warnings``; screening and the intake form show them. When the age and the
date of birth disagree, the age counted from the date of birth is used.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dermatrack.errors import InputError

if TYPE_CHECKING:
    from dermatrack.knowledge.vocabulary import Vocabulary

#: Fitzpatrick skin phototypes, lightest to darkest (Fitzpatrick 1988; NCBI NBK481857).
FITZPATRICK_TYPES: tuple[str, ...] = ("I", "II", "III", "IV", "V", "VI")

#: Administrative sex as FHIR ``AdministrativeGender`` codes
#: (hl7.org/fhir/valueset-administrative-gender).
SEXES: tuple[str, ...] = ("female", "male", "other", "unknown")

#: Concern severity: 1 mild, 2 moderate, 3 marked, 4 severe (the 1-4 range of the modality
#: files' ``severity_range``; docs/knowledge-data.md).
SEVERITY_MIN, SEVERITY_MAX = 1, 4

#: Oldest plausible age in years; anything above is a typing error, not a patient.
MAX_AGE_YEARS = 125

_MEDICATION_KEYS = ("code", "last_taken", "ongoing", "started")

_KEYS = ("age", "date_of_birth", "sex", "fitzpatrick", "concerns", "conditions",
         "medications", "allergies")


@dataclass(frozen=True)
class Concern:
    """One aesthetic concern: vocabulary code, facial region and severity (1-4)."""

    code: str
    region: str
    severity: int


@dataclass(frozen=True)
class PlausibilityWarning:
    """A fact that is allowed but implausible or contradictory, with the input field."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass(frozen=True)
class MedicationUse:
    """A medication the patient takes or took.

    ``last_taken`` is the last day a dose was taken (``None`` when still taking it, or for
    undated past use of a medication without ``needs_last_taken``); ``ongoing`` says the
    patient is taking it now; ``started`` is the first day, when recorded.
    """

    code: str
    last_taken: dt.date | None
    ongoing: bool
    started: dt.date | None = None

    def days_since_last_taken(self, on: dt.date) -> int | None:
        """Whole days from ``last_taken`` to ``on`` (``None`` when no date was recorded)."""
        return None if self.last_taken is None else (on - self.last_taken).days


@dataclass(frozen=True)
class PatientProfile:
    """The clinical facts about one patient that screening and planning read.

    Attributes
    ----------
    age:
        Whole years at the screening date.
    fitzpatrick:
        Skin phototype ``"I"`` to ``"VI"``.
    sex:
        FHIR administrative gender code, or ``None`` when not given.
    date_of_birth:
        When given in the input (``age`` was then computed from it).
    concerns, conditions, medications, allergies:
        Vocabulary codes; conditions and allergies are sorted and unique.
    age_band:
        The vocabulary's age band holding ``age``.
    implied_conditions:
        Conditions the vocabulary's implications add, each with its implying chain
        (:meth:`dermatrack.knowledge.vocabulary.Vocabulary.implied_conditions`): from the
        recorded conditions and allergies, and from the medications taken now (``ongoing``).

    :func:`parse_patient` fills ``age_band`` and ``implied_conditions`` from the vocabulary it
    is given, so that screening reads them here instead of loading a vocabulary itself.
    """

    age: int
    fitzpatrick: str
    sex: str | None = None
    date_of_birth: dt.date | None = None
    concerns: tuple[Concern, ...] = ()
    conditions: tuple[str, ...] = ()
    medications: tuple[MedicationUse, ...] = ()
    allergies: tuple[str, ...] = ()
    warnings: tuple[PlausibilityWarning, ...] = ()
    age_band: str | None = None
    implied_conditions: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict, compare=False, hash=False)

    @property
    def fitzpatrick_index(self) -> int:
        """Phototype as a number, 1 (type I) to 6 (type VI)."""
        return FITZPATRICK_TYPES.index(self.fitzpatrick) + 1

    def medication(self, code: str) -> MedicationUse | None:
        """The patient's record of ``code``, or ``None`` when not listed."""
        return next((m for m in self.medications if m.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        """The profile in the ``PATIENT.json`` shape (dates as ISO strings)."""
        return patient_json(age=self.age, date_of_birth=self.date_of_birth, sex=self.sex,
                            fitzpatrick=self.fitzpatrick, concerns=self.concerns,
                            conditions=self.conditions, medications=self.medications,
                            allergies=self.allergies)


def patient_json(*, age: int | None, date_of_birth: dt.date | None, sex: str | None,
                 fitzpatrick: str | None, concerns: Iterable[Any], conditions: Iterable[str],
                 medications: Iterable[Any], allergies: Iterable[str]) -> dict[str, Any]:
    """Patient facts in the ``PATIENT.json`` shape that :func:`parse_patient` reads.

    ``concerns`` items have ``code``, ``region`` and ``severity``; ``medications`` items
    ``code``, ``last_taken`` (a date or None) and ``ongoing``: a :class:`PatientProfile`'s
    or a stored patient's. Dates become ISO strings; a missing birth date or sex is left
    out rather than written as null.
    """
    data: dict[str, Any] = {"age": age}
    if date_of_birth is not None:
        data["date_of_birth"] = date_of_birth.isoformat()
    if sex is not None:
        data["sex"] = sex
    data["fitzpatrick"] = fitzpatrick
    data["concerns"] = [{"code": c.code, "region": c.region, "severity": c.severity}
                        for c in concerns]
    data["conditions"] = list(conditions)
    data["medications"] = []
    for m in medications:
        item = {"code": m.code,
                "last_taken": None if m.last_taken is None else m.last_taken.isoformat(),
                "ongoing": m.ongoing}
        if getattr(m, "started", None) is not None:
            item["started"] = m.started.isoformat()
        data["medications"].append(item)
    data["allergies"] = list(allergies)
    return data


def parse_patient(data: Any, *, vocabulary: Vocabulary, on: dt.date | None = None,
                  ignore_keys: Collection[str] = ()) -> PatientProfile:
    """Check a ``PATIENT.json`` mapping and return the :class:`PatientProfile`.

    Parameters
    ----------
    data:
        The decoded JSON object.
    on:
        The screening date: age from ``date_of_birth`` is counted to it, and no date may lie
        after it. Defaults to today.
    vocabulary:
        The :class:`dermatrack.knowledge.vocabulary.Vocabulary` codes are checked against
        (services pass the bundled one, :func:`~dermatrack.knowledge.vocabulary.load_vocabulary`).
    ignore_keys:
        Top-level keys the caller handles itself (the store's identity fields, say); any
        other unknown key is an error, so that a misspelt ``"medication"`` is not dropped
        silently.

    Raises
    ------
    InputError
        Naming the path of the first offending value.
    """
    on = on or dt.date.today()
    if not isinstance(data, Mapping):
        raise InputError(f"expected a JSON object for the patient, got {_kind(data)}",
                         field="patient")
    for key in data:
        if key not in _KEYS and key not in ignore_keys:
            raise InputError(f"unknown key {key!r}{_suggest(str(key), _KEYS)}; "
                             f"expected some of {', '.join(_KEYS)}", field=str(key))

    date_of_birth = _optional_date(data.get("date_of_birth"), "date_of_birth", on)
    warnings: list[PlausibilityWarning] = []
    age = _age(data.get("age"), date_of_birth, on, warnings)
    sex = data.get("sex")
    if sex is not None and sex not in SEXES:
        raise InputError(f"unknown sex {sex!r}; expected one of {', '.join(SEXES)}",
                         field="sex")
    fitzpatrick = _fitzpatrick(data.get("fitzpatrick"))

    concerns = tuple(_concern(item, f"concerns[{i}]", vocabulary)
                     for i, item in enumerate(_list(data, "concerns")))
    seen: dict[tuple[str, str], int] = {}
    for i, concern in enumerate(concerns):
        key = (concern.code, concern.region)
        if key in seen:
            raise InputError(f"{concern.code} in {concern.region} is listed twice "
                             f"(also concerns[{seen[key]}])", field=f"concerns[{i}]")
        seen[key] = i

    conditions = tuple(sorted({
        _code(item, f"conditions[{i}]", vocabulary.conditions, "condition")
        for i, item in enumerate(_list(data, "conditions"))}))
    medications = tuple(_medication(item, f"medications[{i}]", vocabulary, on)
                        for i, item in enumerate(_list(data, "medications")))
    codes = [m.code for m in medications]
    for i, code in enumerate(codes):
        if codes.index(code) != i:
            raise InputError(f"{code} is listed twice (also medications[{codes.index(code)}])",
                             field=f"medications[{i}]")
    allergies = tuple(sorted({
        _code(item, f"allergies[{i}]", vocabulary.conditions, "allergy (condition)")
        for i, item in enumerate(_list(data, "allergies"))}))
    warnings += plausibility_warnings(sex, _list(data, "conditions"), medications, vocabulary)
    implied = vocabulary.implied_conditions(conditions + allergies,
                                            [m.code for m in medications if m.ongoing])
    return PatientProfile(age=age, fitzpatrick=fitzpatrick, sex=sex,
                          date_of_birth=date_of_birth, concerns=concerns,
                          conditions=conditions, medications=medications,
                          allergies=allergies, warnings=tuple(warnings),
                          age_band=vocabulary.age_band(age), implied_conditions=implied)


def plausibility_warnings(sex: str | None, conditions: Iterable[Any],
                          medications: Iterable[MedicationUse],
                          vocabulary: Any) -> list[PlausibilityWarning]:
    """Warnings for facts that are valid codes but contradict each other.

    A condition whose vocabulary term lists the patient's sex in ``implausible_for_sex``
    (pregnancy, breastfeeding in a male patient) and a medication last taken before it was
    started. Screening still applies every recorded fact: a warning asks for a check, it
    does not drop the fact.
    """
    out = []
    for i, code in enumerate(conditions):
        term = vocabulary.conditions.get(code) if isinstance(code, str) else None
        if term is not None and sex is not None and sex in term.implausible_for_sex:
            out.append(PlausibilityWarning(
                f"conditions[{i}]", f"{code} is recorded for a {sex} patient; check the sex "
                f"and the condition (screening keeps the {code} rules)"))
    for i, use in enumerate(medications):
        if use.started is not None and use.last_taken is not None and (
                use.last_taken < use.started):
            out.append(PlausibilityWarning(
                f"medications[{i}].last_taken",
                f"{use.code} was last taken {use.last_taken.isoformat()}, before it was started "
                f"{use.started.isoformat()}; check the dates (screening uses the last-taken "
                "date)"))
    return out


@dataclass(frozen=True)
class Demographics:
    """What reception registers of a new patient: age (or date of birth) and sex."""

    age: int
    date_of_birth: dt.date | None
    sex: str | None


DEMOGRAPHIC_KEYS = ("age", "date_of_birth", "sex")
"""The keys of ``PATIENT.json`` that are demographics, not clinical facts."""


def parse_demographics(data: Any, *, on: dt.date | None = None) -> Demographics:
    """Check the demographic part of a ``PATIENT.json`` mapping (no other key allowed).

    The same rules as :func:`parse_patient` for ``age``, ``date_of_birth`` and ``sex``;
    the clinical facts (skin type, concerns, history) are left to a clinician.

    Raises
    ------
    InputError
        Naming the first offending value, or a key that is not demographic.
    """
    on = on or dt.date.today()
    if not isinstance(data, Mapping):
        raise InputError(f"expected a JSON object for the patient, got {_kind(data)}",
                         field="patient")
    for key in data:
        if key not in DEMOGRAPHIC_KEYS:
            raise InputError(f"{key!r} is not a demographic field; expected some of "
                             f"{', '.join(DEMOGRAPHIC_KEYS)}", field=str(key))
    date_of_birth = _optional_date(data.get("date_of_birth"), "date_of_birth", on)
    disagreements: list[PlausibilityWarning] = []
    age = _age(data.get("age"), date_of_birth, on, disagreements)
    if disagreements:  # at the desk, a typo is fixed at once rather than stored
        raise InputError(disagreements[0].message, field="age")
    sex = data.get("sex")
    if sex is not None and sex not in SEXES:
        raise InputError(f"unknown sex {sex!r}; expected one of {', '.join(SEXES)}",
                         field="sex")
    return Demographics(age=age, date_of_birth=date_of_birth, sex=sex)


def load_patient_json(text: str, *, vocabulary: Vocabulary, source: str = "PATIENT.json",
                      on: dt.date | None = None,
                      ignore_keys: Collection[str] = ()) -> PatientProfile:
    """Decode ``text`` as JSON and :func:`parse_patient` it.

    Malformed JSON raises :class:`InputError` naming ``source`` and the line and column.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not valid JSON: {exc.msg} (column {exc.colno})",
                         field=source, line=exc.lineno) from None
    return parse_patient(data, on=on, vocabulary=vocabulary, ignore_keys=ignore_keys)


def parse_date(value: Any, field_name: str) -> dt.date:
    """An ISO ``YYYY-MM-DD`` date, or :class:`InputError` naming ``field_name``."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise InputError(f"expected a date as YYYY-MM-DD, got {_kind(value)}", field=field_name)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date as YYYY-MM-DD", field=field_name) from None


# --- helpers -----------------------------------------------------------------------------

def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _suggest(value: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"expected a list, got {_kind(value)}", field=key)
    return value


def _code(value: Any, where: str, table: Mapping[str, Any], what: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected a {what} code (a string), got {_kind(value)}", field=where)
    if value not in table:
        raise InputError(f"unknown {what} code {value!r}{_suggest(value, table)}", field=where)
    return value


def _integer(value: Any, where: str) -> int:
    # JSON true/false decode to bool, a subclass of int: reject them explicitly.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"expected a whole number, got {_kind(value)}", field=where)
    if isinstance(value, float) and not value.is_integer():
        raise InputError(f"expected a whole number, got {value}", field=where)
    return int(value)


def _optional_date(value: Any, where: str, on: dt.date) -> dt.date | None:
    if value is None:
        return None
    parsed = parse_date(value, where)
    if parsed > on:
        raise InputError(f"{parsed.isoformat()} is after the screening date {on.isoformat()}",
                         field=where)
    return parsed


def _age(value: Any, date_of_birth: dt.date | None, on: dt.date,
         warnings: list[PlausibilityWarning]) -> int:
    from_birth = None
    if date_of_birth is not None:
        had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
        from_birth = on.year - date_of_birth.year - (0 if had_birthday else 1)
    if value is None:
        if from_birth is None:
            raise InputError("give the patient's age or date_of_birth", field="age")
        age = from_birth
    else:
        age = _integer(value, "age")
        if date_of_birth is not None and from_birth is not None and age != from_birth:
            warnings.append(PlausibilityWarning(
                "age", f"age {age} disagrees with date_of_birth {date_of_birth.isoformat()} "
                f"(age {from_birth} on {on.isoformat()}); screening uses {from_birth}, from the "
                "date of birth"))
            age = from_birth
    if not 0 <= age <= MAX_AGE_YEARS:
        raise InputError(f"age {age} is impossible; expected 0 to {MAX_AGE_YEARS} years",
                         field="age")
    return age


def _fitzpatrick(value: Any) -> str:
    if value is None:
        raise InputError("the Fitzpatrick skin type is required (I to VI)", field="fitzpatrick")
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 6:
        return FITZPATRICK_TYPES[value - 1]
    if isinstance(value, str) and value.strip().upper() in FITZPATRICK_TYPES:
        return value.strip().upper()
    raise InputError(f"{value!r} is not a Fitzpatrick skin type; expected one of "
                     f"{', '.join(FITZPATRICK_TYPES)}", field="fitzpatrick")


def _concern(item: Any, where: str, vocabulary: Any) -> Concern:
    if not isinstance(item, Mapping):
        raise InputError(f"expected an object with code, region and severity, got "
                         f"{_kind(item)}", field=where)
    for key in item:
        if key not in ("code", "region", "severity"):
            hint = _suggest(str(key), ("code", "region", "severity"))
            raise InputError(f"unknown key {key!r}{hint}", field=f"{where}.{key}")
    code = _code(item.get("code"), f"{where}.code", vocabulary.concerns, "concern")
    region = _region(item.get("region"), f"{where}.region", vocabulary)
    if item.get("severity") is None:
        raise InputError(f"severity is required ({SEVERITY_MIN} to {SEVERITY_MAX})",
                         field=f"{where}.severity")
    severity = _integer(item["severity"], f"{where}.severity")
    if not SEVERITY_MIN <= severity <= SEVERITY_MAX:
        raise InputError(f"severity {severity} is out of range; expected {SEVERITY_MIN} "
                         f"(mild) to {SEVERITY_MAX} (severe)", field=f"{where}.severity")
    return Concern(code=code, region=region, severity=severity)


def _region(value: Any, where: str, vocabulary: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected a region code (a string), got {_kind(value)}", field=where)
    if value in vocabulary.regions:
        return value
    aliases = getattr(vocabulary, "region_aliases", {}) or {}
    if value in aliases:
        return aliases[value]
    raise InputError(f"unknown region {value!r}"
                     f"{_suggest(value, [*vocabulary.regions, *aliases])}", field=where)


def _medication(item: Any, where: str, vocabulary: Any, on: dt.date) -> MedicationUse:
    if isinstance(item, str):  # a bare code: a medication taken now
        item = {"code": item}
    if not isinstance(item, Mapping):
        raise InputError(f"expected an object with code, last_taken and ongoing, got "
                         f"{_kind(item)}", field=where)
    for key in item:
        if key not in _MEDICATION_KEYS:
            raise InputError(f"unknown key {key!r}{_suggest(str(key), _MEDICATION_KEYS)}",
                             field=f"{where}.{key}")
    code = _code(item.get("code"), f"{where}.code", vocabulary.medications, "medication")
    last_taken = _optional_date(item.get("last_taken"), f"{where}.last_taken", on)
    started = _optional_date(item.get("started"), f"{where}.started", on)
    ongoing = item.get("ongoing")
    if ongoing is None:
        ongoing = last_taken is None
    elif not isinstance(ongoing, bool):
        raise InputError(f"expected true or false, got {_kind(ongoing)}", field=f"{where}.ongoing")
    if not ongoing and last_taken is None and getattr(vocabulary.medications[code],
                                                      "needs_last_taken", True):
        # A stopped drug without a date cannot be placed in a screening window.
        raise InputError(f"{code} is not ongoing, so give the date it was last taken",
                         field=f"{where}.last_taken")
    return MedicationUse(code=code, last_taken=last_taken, ongoing=ongoing, started=started)

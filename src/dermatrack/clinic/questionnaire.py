"""Questionnaire engine on FHIR ``Questionnaire``-shaped definitions.

dermatrack ships no licensed instrument. FACE-Q (Memorial Sloan Kettering; licence
required), the DLQI (free for routine clinical use only, with its copyright line) and
Skindex (MAPI Research Trust) may not be redistributed (clinical.md §2). A clinic that
holds a licence writes the instrument as a FHIR R4 ``Questionnaire`` JSON file and loads it
with :func:`load_questionnaire`; the bundled files in ``clinic/data/questionnaires/`` are
demonstrations written for dermatrack and show the shape:

* ``item[]`` with ``linkId``, ``text`` and ``type``: ``choice`` (Likert), ``integer``
  (0-10 ratings) or ``boolean`` (yes/no) are answered and scored; ``display`` items are
  text only; ``group`` items hold nested ``item[]``.
* A ``choice`` item lists ``answerOption[].valueCoding``; the number each option scores is
  the standard ``ordinalValue`` extension (R4,
  ``http://hl7.org/fhir/StructureDefinition/ordinalValue``) or ``itemWeight`` (R5) with a
  ``valueDecimal``.
* An ``integer`` item lists ``answerOption[].valueInteger`` (0, 1, ... 10) or declares
  ``minValue``/``maxValue`` extensions. A ``boolean`` item scores 1 for yes, 0 for no.
* The scoring rule is an extension on the Questionnaire, :data:`SCORING_URL`, whose nested
  extensions are ``method`` (``valueCode`` ``sum`` or ``mean``), ``item`` (``valueString``
  linkId, repeated: the scored items; all answerable items by default), ``reverse``
  (``valueString`` linkId, repeated: reverse-scored as min + max - value), ``minAnswered``
  (``valueInteger``: fewer answers give no total), ``prorate`` (``valueBoolean``: a sum
  with missing items is scaled up by scored/answered, i.e. the missing items take the mean
  of the answered ones), ``rescale`` (``valueBoolean``: transform linearly so the possible
  range maps to 0-100) and ``improvement`` (``valueCode`` ``lower`` or ``higher``).

:func:`score_response` scores a set of answers and :func:`build_response` writes them as a
FHIR ``QuestionnaireResponse`` (to store beside the score, or to send elsewhere).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from dermatrack.errors import InputError

#: The dermatrack scoring-rule extension on a Questionnaire.
SCORING_URL = "https://dermatrack.org/fhir/StructureDefinition/questionnaire-scoring"
_ORDINAL_URLS = ("http://hl7.org/fhir/StructureDefinition/ordinalValue",
                 "http://hl7.org/fhir/StructureDefinition/itemWeight")
_MIN_URL = "http://hl7.org/fhir/StructureDefinition/minValue"
_MAX_URL = "http://hl7.org/fhir/StructureDefinition/maxValue"
_ANSWERED_TYPES = ("choice", "integer", "boolean")

AnswerValue = str | int | bool


@dataclass(frozen=True)
class Option:
    """A permitted answer: its code (or integer), display text and score."""

    code: str
    display: str | None
    score: float
    system: str | None = None


@dataclass(frozen=True)
class Question:
    """An answerable item."""

    link_id: str
    text: str
    type: Literal["choice", "integer", "boolean"]
    options: tuple[Option, ...]
    minimum: float
    maximum: float

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class ScoringRule:
    """How answers become a total (see the module docstring)."""

    method: Literal["sum", "mean"]
    items: tuple[str, ...]
    reverse: frozenset[str]
    min_answered: int
    prorate: bool
    rescale: bool
    improvement: Literal["lower", "higher"] | None


@dataclass(frozen=True)
class Questionnaire:
    """A checked Questionnaire definition; ``resource`` keeps the original JSON."""

    url: str | None
    name: str
    version: str | None
    questions: tuple[Question, ...]
    scoring: ScoringRule
    resource: dict[str, Any]

    def question(self, link_id: str) -> Question | None:
        return next((q for q in self.questions if q.link_id == link_id), None)

    def by_link_id(self) -> dict[str, Question]:
        """Every answerable item by its linkId."""
        return {q.link_id: q for q in self.questions}


@dataclass(frozen=True)
class QuestionnaireScore:
    """A scored response.

    ``total`` is ``None`` when fewer than ``min_answered`` scored items were answered.
    ``item_scores`` hold the score of each answered scored item after reversal.
    """

    questionnaire: str
    total: float | None
    answered: int
    missing: tuple[str, ...]
    item_scores: dict[str, float]
    method: str
    rescaled: bool
    improvement: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"questionnaire": self.questionnaire, "total": self.total,
                "answered": self.answered, "missing": list(self.missing),
                "item_scores": self.item_scores, "method": self.method,
                "rescaled": self.rescaled, "improvement": self.improvement}


def load_questionnaire(data: Any) -> Questionnaire:
    """Check a FHIR Questionnaire (a decoded JSON object) and return the engine's view of it.

    Raises
    ------
    InputError
        Naming the JSON path of the first problem (``item[2].answerOption[0]``).
    """
    if not isinstance(data, Mapping) or data.get("resourceType") != "Questionnaire":
        raise InputError('expected a JSON object with "resourceType": "Questionnaire"',
                         field="resourceType")
    raw_items = data.get("item")
    if not isinstance(raw_items, list) or not raw_items:
        raise InputError("a Questionnaire needs a non-empty item list", field="item")
    questions: list[Question] = []
    _collect(raw_items, "item", questions)
    ids = [q.link_id for q in questions]
    for i, link_id in enumerate(ids):
        if ids.index(link_id) != i:
            raise InputError(f"linkId {link_id!r} is used twice", field="item")
    name = data.get("name") or data.get("title") or data.get("id") or data.get("url")
    if not isinstance(name, str) or not name:
        raise InputError("a Questionnaire needs a name, title, id or url", field="name")
    scoring = _scoring(data.get("extension") or [], questions)
    version = data.get("version")
    return Questionnaire(url=data.get("url"), name=name,
                         version=None if version is None else str(version),
                         questions=tuple(questions), scoring=scoring, resource=dict(data))


def score_response(questionnaire: Questionnaire,
                   answers: Mapping[str, AnswerValue | None]) -> QuestionnaireScore:
    """Score ``answers`` (linkId to answer: option code, integer or true/false; ``None`` or
    absent for unanswered) by the questionnaire's scoring rule.

    Raises
    ------
    InputError
        ``answers.<linkId>`` for an unknown item or an answer the item does not allow.
    """
    rule = questionnaire.scoring
    checked = _check_answers(questionnaire, answers)
    item_scores: dict[str, float] = {}
    questions = questionnaire.by_link_id()
    for link_id in rule.items:
        if link_id not in checked:
            continue
        question = questions[link_id]
        value = checked[link_id]
        if link_id in rule.reverse:
            value = question.minimum + question.maximum - value
        item_scores[link_id] = value
    missing = tuple(link_id for link_id in rule.items if link_id not in item_scores)
    answered = len(item_scores)
    total: float | None = None
    if answered >= max(rule.min_answered, 1):
        low, high = _possible_range(questionnaire)
        if rule.method == "mean":
            total = sum(item_scores.values()) / answered
        else:
            total = sum(item_scores.values())
            if rule.prorate:
                total *= len(rule.items) / answered
        if rule.rescale:
            total = 100 * (total - low) / (high - low)
        total = round(total, 6)
    return QuestionnaireScore(questionnaire=questionnaire.url or questionnaire.name,
                              total=total, answered=answered, missing=missing,
                              item_scores=item_scores, method=rule.method,
                              rescaled=rule.rescale, improvement=rule.improvement)


def build_response(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue | None], *,
                   subject: str | None = None,
                   authored: dt.datetime | dt.date | None = None) -> dict[str, Any]:
    """The answers as a FHIR R4 ``QuestionnaireResponse`` (a JSON-ready dict).

    ``status`` is ``completed`` when every answerable item has an answer, ``in-progress``
    otherwise. ``subject`` is a reference such as ``"Patient/p-0001"``.
    """
    checked_raw = {k: v for k, v in answers.items() if v is not None}
    _check_answers(questionnaire, answers)
    items = []
    for question in questionnaire.questions:
        if question.link_id not in checked_raw:
            continue
        value = checked_raw[question.link_id]
        answer: dict[str, Any]
        if question.type == "choice":
            option = question.option(_choice_code(value))
            assert option is not None  # checked by _check_answers above
            coding = {"code": option.code}
            if option.system:
                coding["system"] = option.system
            if option.display:
                coding["display"] = option.display
            answer = {"valueCoding": coding}
        elif question.type == "integer":
            answer = {"valueInteger": int(value)}
        else:
            answer = {"valueBoolean": bool(value)}
        items.append({"linkId": question.link_id, "text": question.text, "answer": [answer]})
    complete = len(items) == len(questionnaire.questions)
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed" if complete else "in-progress",
    }
    if questionnaire.url:
        response["questionnaire"] = (f"{questionnaire.url}|{questionnaire.version}"
                                     if questionnaire.version else questionnaire.url)
    if subject:
        response["subject"] = {"reference": subject}
    if authored is not None:
        response["authored"] = authored.isoformat()
    response["item"] = items
    return response


def bundled_questionnaires() -> list[str]:
    """Names of the demonstration questionnaires shipped with dermatrack."""
    folder = resources.files("dermatrack.clinic").joinpath("data/questionnaires")
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir()
                  if p.name.endswith(".json"))


@cache
def load_bundled_questionnaire(name: str) -> Questionnaire:
    """One of :func:`bundled_questionnaires` by name."""
    names = bundled_questionnaires()
    if name not in names:
        raise InputError(f"no bundled questionnaire {name!r}; bundled: {', '.join(names)}",
                         field="questionnaire")
    folder = resources.files("dermatrack.clinic").joinpath("data/questionnaires")
    return load_questionnaire(json.loads(folder.joinpath(f"{name}.json").read_text("utf-8")))


# --- helpers -----------------------------------------------------------------------------

def _collect(raw_items: list[Any], where: str, out: list[Question]) -> None:
    for i, raw in enumerate(raw_items):
        path = f"{where}[{i}]"
        if not isinstance(raw, Mapping):
            raise InputError("expected an item object", field=path)
        item_type = raw.get("type")
        link_id = raw.get("linkId")
        if not isinstance(link_id, str) or not link_id:
            raise InputError("every item needs a linkId", field=f"{path}.linkId")
        if item_type == "group":
            _collect(raw.get("item") or [], f"{path}.item", out)
        elif item_type == "display":
            continue
        elif item_type in _ANSWERED_TYPES:
            out.append(_question(raw, path))
        else:
            raise InputError(f"item type {item_type!r} is not supported; use choice, integer, "
                             f"boolean, display or group", field=f"{path}.type")


def _question(raw: Mapping[str, Any], path: str) -> Question:
    link_id, item_type = raw["linkId"], raw["type"]
    text = raw.get("text") or link_id
    if item_type == "boolean":
        yes_no = (Option("true", "Yes", 1.0), Option("false", "No", 0.0))
        return Question(link_id, text, "boolean", yes_no, 0.0, 1.0)
    raw_options = raw.get("answerOption") or []
    options: list[Option] = []
    for j, raw_option in enumerate(raw_options):
        where = f"{path}.answerOption[{j}]"
        if item_type == "choice":
            coding = raw_option.get("valueCoding") if isinstance(raw_option, Mapping) else None
            if not isinstance(coding, Mapping) or not isinstance(coding.get("code"), str):
                raise InputError("a choice option needs valueCoding with a code",
                                 field=f"{where}.valueCoding")
            score = _ordinal(raw_option)
            if score is None:
                raise InputError("a choice option needs an ordinalValue (or itemWeight) "
                                 "extension with valueDecimal to be scored", field=where)
            options.append(Option(coding["code"], coding.get("display"), score,
                                  coding.get("system")))
        else:
            value = raw_option.get("valueInteger") if isinstance(raw_option, Mapping) else None
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError("an integer option needs valueInteger",
                                 field=f"{where}.valueInteger")
            options.append(Option(str(value), None, float(value)))
    if item_type == "choice" and not options:
        raise InputError("a choice item needs answerOption", field=f"{path}.answerOption")
    codes = [o.code for o in options]
    if len(set(codes)) != len(codes):
        raise InputError("answer options repeat a code", field=f"{path}.answerOption")
    if options:
        low, high = min(o.score for o in options), max(o.score for o in options)
    else:  # an integer item bounded by minValue / maxValue
        low = _extension_value(raw, _MIN_URL, "valueInteger")
        high = _extension_value(raw, _MAX_URL, "valueInteger")
        if low is None or high is None or low >= high:
            raise InputError("an integer item needs answerOption or minValue and maxValue "
                             "extensions (min below max)", field=f"{path}.extension")
    return Question(link_id, text, item_type, tuple(options), float(low), float(high))


def _ordinal(raw_option: Mapping[str, Any]) -> float | None:
    for extension in raw_option.get("extension") or []:
        if isinstance(extension, Mapping) and extension.get("url") in _ORDINAL_URLS:
            value = extension.get("valueDecimal", extension.get("valueInteger"))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
    return None


def _extension_value(raw: Mapping[str, Any], url: str, key: str) -> Any:
    for extension in raw.get("extension") or []:
        if isinstance(extension, Mapping) and extension.get("url") == url:
            return extension.get(key)
    return None


def _scoring(extensions: list[Any], questions: list[Question]) -> ScoringRule:
    spec = next((e for e in extensions
                 if isinstance(e, Mapping) and e.get("url") == SCORING_URL), None)
    if spec is None:
        raise InputError(f"the Questionnaire declares no scoring rule (extension {SCORING_URL})",
                         field="extension")
    parts: dict[str, list[Any]] = {}
    for j, part in enumerate(spec.get("extension") or []):
        if not isinstance(part, Mapping) or "url" not in part:
            raise InputError("a scoring part needs a url", field=f"extension.scoring[{j}]")
        values = [v for k, v in part.items() if k.startswith("value")]
        if len(values) != 1:
            raise InputError(f"scoring part {part['url']!r} needs one value",
                             field=f"extension.scoring.{part['url']}")
        parts.setdefault(part["url"], []).append(values[0])
    known = ("method", "item", "reverse", "minAnswered", "prorate", "rescale", "improvement")
    for key in parts:
        if key not in known:
            raise InputError(f"unknown scoring part {key!r}; expected some of "
                             f"{', '.join(known)}", field=f"extension.scoring.{key}")
    method = (parts.get("method") or ["sum"])[0]
    if method not in ("sum", "mean"):
        raise InputError(f"scoring method {method!r} is not sum or mean",
                         field="extension.scoring.method")
    link_ids = [q.link_id for q in questions]
    items = tuple(parts.get("item") or link_ids)
    reverse = frozenset(parts.get("reverse") or ())
    for key, ids in (("item", items), ("reverse", reverse)):
        for link_id in ids:
            if link_id not in link_ids:
                raise InputError(f"scoring names item {link_id!r}, which is not an answerable "
                                 f"item", field=f"extension.scoring.{key}")
    min_answered = (parts.get("minAnswered") or [len(items)])[0]
    if isinstance(min_answered, bool) or not isinstance(min_answered, int) \
            or not 1 <= min_answered <= len(items):
        raise InputError(f"minAnswered must be 1 to {len(items)}",
                         field="extension.scoring.minAnswered")
    improvement = (parts.get("improvement") or [None])[0]
    if improvement not in (None, "lower", "higher"):
        raise InputError("improvement must be lower or higher",
                         field="extension.scoring.improvement")
    rescale = bool((parts.get("rescale") or [False])[0])
    by_id = {q.link_id: q for q in questions}
    if rescale and sum(by_id[i].maximum - by_id[i].minimum for i in items) <= 0:
        raise InputError("cannot rescale: the scored items allow only one value",
                         field="extension.scoring.rescale")
    return ScoringRule(method=method, items=items, reverse=reverse, min_answered=min_answered,
                       prorate=bool((parts.get("prorate") or [False])[0]),
                       rescale=rescale,
                       improvement=improvement)


def _possible_range(questionnaire: Questionnaire) -> tuple[float, float]:
    rule = questionnaire.scoring
    questions = questionnaire.by_link_id()
    scored = [questions[link_id] for link_id in rule.items]
    low = sum(q.minimum for q in scored)
    high = sum(q.maximum for q in scored)
    if rule.method == "mean":
        low, high = low / len(scored), high / len(scored)
    return low, high


def _choice_code(value: Any) -> Any:
    return value.get("code") if isinstance(value, Mapping) else value


def _check_answers(questionnaire: Questionnaire,
                   answers: Mapping[str, Any]) -> dict[str, float]:
    """Answered items' scores before reversal, checking every answer."""
    if not isinstance(answers, Mapping):
        raise InputError("answers must be an object of linkId to answer", field="answers")
    scores: dict[str, float] = {}
    for link_id, value in answers.items():
        where = f"answers.{link_id}"
        question = questionnaire.question(link_id)
        if question is None:
            ids = [q.link_id for q in questionnaire.questions]
            close = difflib.get_close_matches(str(link_id), ids, n=2, cutoff=0.6)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise InputError(f"{questionnaire.name} has no item {link_id!r}{hint}",
                             field=where)
        if value is None:
            continue
        if question.type == "boolean":
            if not isinstance(value, bool):
                raise InputError(f"expected true or false, got {value!r}", field=where)
            scores[link_id] = 1.0 if value else 0.0
        elif question.type == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"expected a whole number, got {value!r}", field=where)
            if question.options and question.option(str(value)) is None:
                raise InputError(f"{value} is not an allowed answer; expected one of "
                                 f"{', '.join(o.code for o in question.options)}", field=where)
            if not question.minimum <= value <= question.maximum:
                raise InputError(f"{value} is out of range {question.minimum:g} to "
                                 f"{question.maximum:g}", field=where)
            scores[link_id] = float(value)
        else:
            code = _choice_code(value)
            option = question.option(code) if isinstance(code, str) else None
            if option is None:
                raise InputError(f"{value!r} is not an option; expected one of "
                                 f"{', '.join(o.code for o in question.options)}", field=where)
            scores[link_id] = option.score
    return scores

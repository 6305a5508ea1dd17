"""The synthetic cohort: who the demo patients are and what treatment does to them.

Everything here is drawn from one seeded generator, so a seed gives the same clinic.
Core module: no I/O.

Choices, and why
----------------
* Patient *i* wants modality ``codes[i % 11]`` and has Fitzpatrick type ``I..VI[i % 6]``;
  11 and 6 share no factor, so every pairing occurs across a cohort of 66 and every
  modality and type already appears at 11 patients. The concern is one the modality
  treats (cycled through its list), at severity 2-3.
* About one patient in eight took isotretinoin in the last 90 days and one in seven has a
  history of herpes simplex: the screening then stops or cautions some modalities and
  the plan's best remaining recommendation is used instead, as a clinic would.
* The treatment effect is the fraction by which the concern's features shrink at the
  last follow-up: for responders (75 %) it is drawn around ``0.12 x efficacy`` (the
  knowledge base's 1-3 efficacy for the concern) with an SD of 0.08, clipped to
  0.05-0.7; non-responders get 0 +/- 0.03. Month 1 shows 70 % of the final effect.
* Adverse events are drawn once per course from the modality's ``rate_percent``
  (knowledge data); a rate reported without a figure is taken as 1 %. PIH is scaled by
  phototype (x0.25 for I-II, x2.5 for V-VI when the modality's PIH risk is moderate or
  high), and every rate is capped at 25 % per course because some published rates come
  from unusual conditions (the IPL figures were measured at test fluences).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ROMAN = ("I", "II", "III", "IV", "V", "VI")

#: ITA° at the centre of each Fitzpatrick type's usual range (Del Bino & Bernerd 2013
#: categories: very light > 55°, light 41-55°, intermediate 28-41°, tan 10-28°,
#: brown -30-10°, dark < -30°), used to colour the synthetic skin.
ITA_BY_TYPE = {"I": 58.0, "II": 47.0, "III": 34.0, "IV": 19.0, "V": -5.0, "VI": -34.0}

#: Feature family photographed for each concern (what the treatment changes).
CONCERN_FAMILY = {
    "fine_lines": "wrinkles", "wrinkles": "wrinkles", "laxity": "wrinkles",
    "volume_loss": "wrinkles", "acne_scars": "texture", "texture": "texture",
    "stretch_marks": "texture", "enlarged_pores": "pores",
    "dyspigmentation": "pigment", "melasma": "pigment",
    "post_inflammatory_hyperpigmentation": "pigment", "erythema": "redness",
}

#: Region of the face photographed and treated for each family (vocabulary regions).
FAMILY_REGION = {"wrinkles": "forehead", "texture": "cheeks", "pores": "nose",
                 "pigment": "cheeks", "redness": "cheeks"}

#: Photo metric (region ``whole``) and phantom truth key compared for each family.
FAMILY_METRIC = {
    "wrinkles": ("wrinkles.length_mm", "wrinkle_total_length_mm"),
    "pigment": ("pigment.spot_area_fraction", "spot_area_fraction"),
    "redness": ("redness.red_area_fraction", "red_area_fraction"),
    "pores": ("pores.count", "pore_count"),
    "texture": ("texture.roughness", "texture_roughness_l"),
}

RESPONDER_SHARE = 0.75
EFFECT_PER_EFFICACY = 0.12
EFFECT_SD = 0.08
NONRESPONDER_SD = 0.03
MONTH_1_SHARE = 0.7
UNKNOWN_RATE_PERCENT = 1.0
MAX_EVENT_PROBABILITY = 0.25
FACE_EVERY = 5
"""Every fifth patient is photographed as one of the bundled real faces."""


@dataclass
class PatientDesign:
    """One synthetic patient and the truth the demo simulates for them."""

    index: int
    seed: int
    sex: str
    age: int
    fitzpatrick: str
    wanted_modality: str
    concern: str
    region: str
    severity: int
    conditions: list[str] = field(default_factory=list)
    medications: list[dict[str, Any]] = field(default_factory=list)
    responder: bool = True
    effect: float = 0.0
    photo_source: str = "phantom"

    @property
    def family(self) -> str:
        return CONCERN_FAMILY[self.concern]

    def effect_at(self, timepoint: str) -> float:
        """Fraction of the concern's features gone at a visit (0 at baseline)."""
        if timepoint == "month_1":
            return MONTH_1_SHARE * self.effect
        if timepoint == "month_3":
            return self.effect
        return 0.0

    def patient_json(self, today: dt.date) -> dict[str, Any]:
        """The ``PATIENT.json`` record, with synthetic identity and consents."""
        signed = dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.UTC)
        return {
            "age": self.age, "sex": self.sex, "fitzpatrick": self.fitzpatrick,
            "concerns": [{"code": self.concern, "region": self.region,
                          "severity": self.severity}],
            "conditions": list(self.conditions), "medications": list(self.medications),
            "allergies": [],
            "identity": {"name": f"Synthetic Patient {self.index + 1:03d}",
                         "email": f"synthetic.{self.index + 1:03d}@example.org",
                         "phone": f"+44 20 7946 {self.index % 10000:04d}"},
            "consents": [{"kind": kind, "version": "demo-1", "signed_at": signed.isoformat()}
                         for kind in ("treatment", "photography", "research")],
        }


def _concern_for(modality: Any, turn: int) -> Any:
    usable = [c for c in modality.concerns if c.code in CONCERN_FAMILY]
    return usable[turn % len(usable)]


def design_cohort(n_patients: int, modalities: dict[str, Any], rng: np.random.Generator,
                  *, today: dt.date) -> list[PatientDesign]:
    """Draw ``n_patients`` synthetic patients (module docstring for the choices)."""
    codes = sorted(modalities)
    turns: dict[str, int] = {}
    designs = []
    for index in range(n_patients):
        code = codes[index % len(codes)]
        modality = modalities[code]
        turn = turns[code] = turns.get(code, -1) + 1
        concern = _concern_for(modality, turn)
        family = CONCERN_FAMILY[concern.code]
        responder = bool(rng.random() < RESPONDER_SHARE)
        if responder:
            effect = float(np.clip(rng.normal(EFFECT_PER_EFFICACY * concern.efficacy,
                                              EFFECT_SD), 0.05, 0.7))
        else:
            effect = float(np.clip(rng.normal(0.0, NONRESPONDER_SD), -0.05, 0.05))
        medications: list[dict[str, Any]] = []
        if rng.random() < 1 / 8:
            last = today - dt.timedelta(days=int(rng.integers(30, 90)))
            medications.append({"code": "isotretinoin", "last_taken": last.isoformat()})
        conditions = ["herpes_simplex_history"] if rng.random() < 1 / 7 else []
        if index % FACE_EVERY == FACE_EVERY - 1:
            photo_source = "astronaut" if (index // FACE_EVERY) % 2 == 0 else "grace_hopper"
        else:
            photo_source = "phantom"
        designs.append(PatientDesign(
            index=index, seed=int(rng.integers(0, 2**31 - 1)),
            sex="female" if rng.random() < 0.7 else "male", age=int(rng.integers(28, 66)),
            fitzpatrick=ROMAN[index % len(ROMAN)], wanted_modality=code,
            concern=concern.code, region=FAMILY_REGION[family],
            severity=int(rng.integers(2, 4)), conditions=conditions,
            medications=medications, responder=responder, effect=effect,
            photo_source=photo_source))
    return designs


def event_probability(modality: Any, event: Any, fitzpatrick: str) -> float:
    """Chance of one adverse event over a course (module docstring)."""
    rate = event.rate_percent if event.rate_percent is not None else UNKNOWN_RATE_PERCENT
    probability = rate / 100.0
    if event.code == "post_inflammatory_hyperpigmentation":
        if fitzpatrick in ("I", "II"):
            probability *= 0.25
        elif fitzpatrick in ("V", "VI") and modality.pih_risk in ("moderate", "high"):
            probability *= 2.5
    return min(probability, MAX_EVENT_PROBABILITY)


def gais_grade(effect: float, rng: np.random.Generator) -> int:
    """A clinician's GAIS grade (1 very much improved ... 5 worse) for a true effect.

    Raters see large changes reliably and small ones unevenly: 1 above 45 % fewer
    features, 2 above 30 %, 3 above 12 %, a coin toss between 3 and 4 from 5 to 12 %,
    4 below that; one rating in twenty is one grade off either way.
    """
    if effect > 0.45:
        grade = 1
    elif effect > 0.30:
        grade = 2
    elif effect > 0.12:
        grade = 3
    elif effect > 0.05:
        grade = 3 if rng.random() < 0.5 else 4
    else:
        grade = 4
    if rng.random() < 0.05:
        grade += int(rng.choice([-1, 1]))
    return int(np.clip(grade, 1, 5))

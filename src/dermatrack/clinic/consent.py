"""Consent rules: which consent each act needs, what a signature covers, neutral examples.

Three kinds of consent (ICH E6(R3) 2.8 for research; GDPR Art. 9(2)(a) for photographs
as health data; the treatment consent of the clinic's own procedure):

* charting a treatment session needs a current **treatment** consent whose scope is the
  session's modality, or a general treatment consent (scope ``any``);
* storing a photograph needs a current **photography** consent;
* including a patient in cohort (research) analyses needs a current **research** consent.

"Current" means signed and not withdrawn at the time of the act. A signed consent is a
document: the text of the template version signed, the signature image, the time and the
witness are bound by :func:`content_digest`, so any later change of any of them is
detectable.

dermatrack ships only :data:`EXAMPLE_TEMPLATES`: neutral placeholder text saying what a
clinic's form has to cover, to be replaced by the clinic's own reviewed wording.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KINDS = ("treatment", "photography", "research")
ANY_SCOPE = "any"
"""Scope of a template (and of a consent) that covers every treatment."""

REQUIRED_KIND = {"session": "treatment", "photo": "photography", "cohort": "research"}
"""The consent kind each act needs."""

ACT_LABEL = {"session": "charting a treatment session", "photo": "storing a photograph",
             "cohort": "including the patient in cohort analyses"}


@dataclass(frozen=True)
class ConsentFact:
    """A consent on file, as the rule needs it."""

    id: str
    kind: str
    scope: str | None  # None or "any": every treatment
    signed_at: dt.datetime
    withdrawn_at: dt.datetime | None


@dataclass(frozen=True)
class ConsentDecision:
    """Whether an act may proceed, the consent that allows it, and why not otherwise."""

    allowed: bool
    consent_id: str | None
    reason: str


def covers(fact: ConsentFact, kind: str, modality: str | None) -> bool:
    """Whether ``fact`` is of ``kind`` and, for a treatment, covers ``modality``."""
    if fact.kind != kind:
        return False
    return kind != "treatment" or fact.scope in (None, ANY_SCOPE) or fact.scope == modality


def decide(act: str, consents: Iterable[ConsentFact], *, at: dt.datetime,
           modality: str | None = None) -> ConsentDecision:
    """May ``act`` (``session``, ``photo`` or ``cohort``) proceed at ``at``?

    Parameters
    ----------
    act:
        One of :data:`REQUIRED_KIND`.
    consents:
        The patient's consents on file.
    at:
        Time of the act (timezone-aware).
    modality:
        For a session, the modality code charted.

    Returns
    -------
    ConsentDecision
        ``allowed`` with the consent id, or the reason it is refused: none signed, or the
        matching consents all withdrawn (with the latest withdrawal date).
    """
    kind = REQUIRED_KIND[act]
    matching = [c for c in consents if covers(c, kind, modality)]
    what = f"{kind} consent" + (f" for {modality}" if kind == "treatment" and modality else "")
    current = [c for c in matching if c.signed_at <= at
               and (c.withdrawn_at is None or c.withdrawn_at > at)]
    if current:
        best = max(current, key=lambda c: c.signed_at)
        return ConsentDecision(True, best.id, f"{what} {best.id} signed "
                                              f"{best.signed_at.date().isoformat()}")
    withdrawn = [c for c in matching if c.withdrawn_at is not None and c.withdrawn_at <= at]
    if withdrawn:
        last = max(withdrawn, key=lambda c: c.withdrawn_at or at)
        assert last.withdrawn_at is not None
        return ConsentDecision(False, None, f"the {what} was withdrawn on "
                                            f"{last.withdrawn_at.date().isoformat()}; "
                                            f"{ACT_LABEL[act]} needs a new signed consent")
    return ConsentDecision(False, None, f"no {what} has been signed; {ACT_LABEL[act]} "
                                        "needs one")


def content_digest(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a signed consent's fields.

    Canonical: keys sorted, no whitespace, UTF-8, datetimes as ISO 8601 in UTC. The fields
    are those of :func:`signed_fields`.
    """
    def default(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat()
        raise TypeError(type(value).__name__)

    text = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), default=default,
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signed_fields(*, patient_id: str, template_id: str, kind: str, scope: str,
                  version: str, title: str, body_sha256: str, signed_at: dt.datetime,
                  witness: str, signature_sha256: str) -> dict[str, Any]:
    """Everything a signature binds, as hashed by :func:`content_digest`."""
    return {"patient_id": patient_id, "template_id": template_id, "kind": kind,
            "scope": scope, "version": version, "title": title, "body_sha256": body_sha256,
            "signed_at": signed_at, "witness": witness, "signature_sha256": signature_sha256}


def text_digest(text: str) -> str:
    """SHA-256 (hex) of a template's text as stored (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_EXAMPLE_NOTE = ("EXAMPLE TEXT shipped with dermatrack. It is not legal or clinical advice "
                 "and must be replaced by the clinic's own reviewed wording before use.")

EXAMPLE_TEMPLATES: tuple[dict[str, str], ...] = (
    {"kind": "treatment", "scope": ANY_SCOPE, "version": "example-1",
     "title": "Treatment consent (example)",
     "body": _EXAMPLE_NOTE + "\n\n"
             "1. The treatment proposed, its purpose and the number of sessions have been "
             "explained to me.\n"
             "2. The expected reactions, the possible complications and their likelihood "
             "have been explained to me, and the alternatives, including no treatment.\n"
             "3. I have been able to ask questions and have had them answered.\n"
             "4. I may withdraw this consent at any time; treatment then stops."},
    {"kind": "photography", "scope": ANY_SCOPE, "version": "example-1",
     "title": "Photography consent (example)",
     "body": _EXAMPLE_NOTE + "\n\n"
             "1. Photographs of my face or skin may be taken before, during and after "
             "treatment and kept in my clinical record.\n"
             "2. They are used for my care and are shown to no one outside the clinic "
             "without my separate agreement.\n"
             "3. I may withdraw this consent at any time; no further photographs are "
             "then taken."},
    {"kind": "research", "scope": ANY_SCOPE, "version": "example-1",
     "title": "Research use of my de-identified data (example)",
     "body": _EXAMPLE_NOTE + "\n\n"
             "1. My measurements and outcomes, without my name or contact details, may "
             "be included in the clinic's analyses of treatment results.\n"
             "2. Taking part is voluntary and does not change my care.\n"
             "3. I may withdraw this consent at any time; my data is then left out of "
             "later analyses."},
)
"""Neutral example templates: what a form covers, not a clinic's wording."""

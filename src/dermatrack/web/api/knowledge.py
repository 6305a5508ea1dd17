"""The knowledge base: full-text search and the modalities' protocol data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from dermatrack.web.deps import Principal, require

if TYPE_CHECKING:
    from dermatrack.knowledge.base import KnowledgeBase

router = APIRouter(tags=["knowledge"])


class HitOut(BaseModel):
    kind: str
    code: str
    title: str
    snippet: str
    score: float


class ModalitySummary(BaseModel):
    code: str
    name: str
    category: str
    depth: str


def knowledge_base(request: Request) -> KnowledgeBase:
    """The knowledge base of the app's data directory (bundled plus imported topics)."""
    from dermatrack.services.knowledge import load_knowledge_base

    return load_knowledge_base(request.app.state.settings.data_dir)


@router.get("/knowledge/search", response_model=list[HitOut])
def search(request: Request, q: str = Query(..., min_length=1, max_length=200),
           limit: int = Query(20, ge=1, le=100),
           _: Principal = Depends(require("knowledge"))) -> list[HitOut]:
    """Ranked search over records, topic articles and modality data (BM25)."""
    return [HitOut(**hit.to_json()) for hit in knowledge_base(request).search(q, limit=limit)]


@router.get("/knowledge/modalities", response_model=list[ModalitySummary])
def modalities(_: Principal = Depends(require("knowledge"))) -> list[ModalitySummary]:
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    return [ModalitySummary(code=m.code, name=m.name, category=m.category, depth=m.depth)
            for m in sorted(load_modalities(load_vocabulary()).values(), key=lambda m: m.name)]


@router.get("/knowledge/modalities/{code}", response_model=dict[str, Any])
def modality(request: Request, code: str, _: Principal = Depends(require("knowledge"))
             ) -> dict[str, Any]:
    """A modality's data file (protocol, parameter ranges, rules, references) as JSON."""
    _kind, data = knowledge_base(request).find(code, "modality")
    return data

"""Knowledge base pages: search, and each modality's protocol, rules and references."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dermatrack.errors import InputError
from dermatrack.web.deps import Principal, require_page
from dermatrack.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/knowledge")
def knowledge_page(request: Request, q: str | None = None,
                   principal: Principal = Depends(require_page("knowledge"))) -> Response:
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.web.api.knowledge import knowledge_base

    hits, error = [], None
    if q and q.strip():
        try:
            hits = knowledge_base(request).search(q, limit=30)
        except InputError as problem:
            error = problem.message
    template = "_hits.html" if request.headers.get("X-Partial") else "knowledge.html"
    return render(request, template, principal, q=q or "", hits=hits, error=error,
                  modalities=sorted(load_modalities(load_vocabulary()).values(),
                                    key=lambda m: m.name))


@router.get("/knowledge/matrix")
def matrix_page(request: Request, modality: str | None = None,
                principal: Principal = Depends(require_page("knowledge"))) -> Response:
    """The contraindication matrix: the grid, and one modality's column with reasons."""
    from dermatrack.knowledge.matrix import VERDICT_MARK, load_matrix
    from dermatrack.knowledge.vocabulary import load_vocabulary

    matrix = load_matrix(load_vocabulary())
    if modality is not None and modality not in matrix.modalities:
        raise InputError(f"unknown modality {modality!r}; known: "
                         f"{', '.join(matrix.modalities)}", field="modality")
    grid = [(factor, [matrix.cell(factor.key, code) for code in matrix.modalities])
            for factor in matrix.factors]
    return render(request, "matrix.html", principal, matrix=matrix, grid=grid,
                  columns=[(code, matrix.short_codes[code]) for code in matrix.modalities],
                  marks=VERDICT_MARK, counts=matrix.counts(), selected=modality,
                  column=matrix.rows(modality) if modality else [])


@router.get("/knowledge/modalities/{code}")
def modality_page(request: Request, code: str,
                  principal: Principal = Depends(require_page("knowledge"))) -> Response:
    from dermatrack.errors import NotFoundError
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.web.pages.charting import parameter_table

    modality = load_modalities(load_vocabulary()).get(code)
    if modality is None:
        raise NotFoundError(f"no modality {code!r}")
    return render(request, "modality.html", principal, modality=modality,
                  parameters=parameter_table(modality))

"""Ranked full-text search over the knowledge base (SQLite FTS5, in memory).

Every searchable item (a record, a topic, a modality's data) becomes one
:class:`Document` with a title and a body, held in an FTS5 table of an in-memory SQLite
database (no file is written). FTS5 tokenizes with the Porter stemmer (so "scars" finds
"scarring"), finds the matching documents and cuts the snippets.

Ranking is BM25F (BM25 over the title and body fields, the title weighted
:data:`TITLE_WEIGHT` times), computed from FTS5's own term statistics (the ``fts5vocab``
tables). It is not FTS5's built-in ``bm25()`` because that one sets the IDF of any term
found in more than half the documents to 1e-6: in a knowledge base of a few dozen items
most clinical words ("skin", "scar", "collagen") are that common, and the ranking then
collapses. The IDF here is Lucene's ``ln(1 + (N - n + 0.5) / (n + 0.5))``, which stays
positive.

References
----------
SQLite FTS5 extension, https://sqlite.org/fts5.html (porter tokenizer, ``snippet()``,
``fts5vocab``). Robertson S, Zaragoza H. "The Probabilistic Relevance Framework: BM25 and
Beyond." Foundations and Trends in Information Retrieval 3(4), 2009 (BM25F, sections 3-4).
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dermatrack.errors import InputError

TITLE_WEIGHT = 5.0
"""BM25F weight of a title token relative to a body token."""

BM25_K1 = 1.2
"""Term-frequency saturation (Robertson and Zaragoza 2009: 1.2 is the usual value)."""

BM25_B = 0.75
"""Document-length normalisation strength (the usual value)."""

_TOKENIZER = "porter unicode61 remove_diacritics 2"

SNIPPET_TOKENS = 16
"""Tokens of context shown around the matches in a hit's snippet."""

# The words of a query as FTS5's unicode61 tokenizer splits them: letters and digits only,
# so an underscore or any other punctuation separates words (``acne_scars`` is two words).
_TERM = re.compile(r"[^\W_]+", re.UNICODE)
# Control characters mark matches inside snippets, then become brackets: document text
# may hold brackets of its own, never these.
_OPEN, _CLOSE = "\x02", "\x03"


@dataclass(frozen=True)
class Document:
    """One searchable item.

    Attributes
    ----------
    kind:
        ``"record"``, ``"topic"`` or ``"modality"``.
    code:
        Its code within the kind.
    title:
        Display title; weighted above the body in ranking.
    body:
        The rest of its text.
    """

    kind: str
    code: str
    title: str
    body: str


@dataclass(frozen=True)
class Hit:
    """One search result; a higher ``score`` is a better match (BM25, sign flipped)."""

    kind: str
    code: str
    title: str
    snippet: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "title": self.title,
                "snippet": self.snippet, "score": round(self.score, 4)}


def match_expression(query: str) -> str:
    """An FTS5 MATCH expression for a user's query: its words, each quoted, joined by OR.

    Quoting every word makes FTS5 operators and punctuation in the query (``AND``, ``*``,
    ``"``, ``:``, ``-``, ``(``) plain text, so no query can raise a syntax error; OR lets
    BM25 rank documents that match more of the words first.

    Raises
    ------
    InputError
        When the query holds no word.
    """
    terms = _TERM.findall(query)
    if not terms:
        raise InputError("the search query holds no word", field="query")
    return " OR ".join(f'"{term}"' for term in terms)


class SearchIndex:
    """An in-memory FTS5 index of documents; safe to query from several threads."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(f"""
            CREATE VIRTUAL TABLE docs USING fts5(kind UNINDEXED, code UNINDEXED, title, body,
                                                 tokenize = '{_TOKENIZER}');
            CREATE VIRTUAL TABLE doc_terms USING fts5vocab(docs, instance);
            CREATE VIRTUAL TABLE query USING fts5(text, tokenize = '{_TOKENIZER}');
            CREATE VIRTUAL TABLE query_terms USING fts5vocab(query, row);
        """)
        self._db.executemany("INSERT INTO docs (kind, code, title, body) VALUES (?, ?, ?, ?)",
                             [(d.kind, d.code, d.title, d.body) for d in documents])
        self._db.commit()
        self.size = self._db.execute("SELECT count(*) FROM docs").fetchone()[0]
        # Field lengths in tokens, for BM25F's length normalisation.
        self._lengths: dict[int, float] = {}
        for rowid, column, count in self._db.execute(
                "SELECT doc, col, count(*) FROM doc_terms GROUP BY doc, col"):
            weight = TITLE_WEIGHT if column == "title" else 1.0
            self._lengths[rowid] = self._lengths.get(rowid, 0.0) + weight * count
        self._mean_length = (sum(self._lengths.values()) / self.size) if self.size else 0.0

    def _stems(self, expression: str) -> list[str]:
        """The query's terms as the index holds them (stemmed, folded)."""
        self._db.execute("INSERT INTO query (text) VALUES (?)", (expression,))
        stems = [row[0] for row in self._db.execute("SELECT term FROM query_terms")]
        self._db.execute("DELETE FROM query")
        return stems

    def _scores(self, stems: list[str]) -> dict[int, float]:
        """BM25F score of every document holding at least one of ``stems``."""
        marks = ", ".join("?" * len(stems))
        weighted: dict[tuple[int, str], float] = {}
        holders: dict[str, set[int]] = {}
        for rowid, column, term, count in self._db.execute(
                f"SELECT doc, col, term, count(*) FROM doc_terms WHERE term IN ({marks}) "
                "GROUP BY doc, col, term", stems):
            weight = TITLE_WEIGHT if column == "title" else 1.0
            weighted[rowid, term] = weighted.get((rowid, term), 0.0) + weight * count
            holders.setdefault(term, set()).add(rowid)
        scores: dict[int, float] = {}
        for (rowid, term), frequency in weighted.items():
            held_by = len(holders[term])
            idf = math.log(1.0 + (self.size - held_by + 0.5) / (held_by + 0.5))
            norm = 1.0 - BM25_B + BM25_B * self._lengths.get(rowid, 0.0) / self._mean_length
            scores[rowid] = scores.get(rowid, 0.0) + idf * frequency * (BM25_K1 + 1.0) / (
                frequency + BM25_K1 * norm)
        return scores

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        """Documents matching any word of ``query``, best first.

        Parameters
        ----------
        query:
            Free text; FTS5 syntax in it is treated as plain words.
        limit:
            Most hits returned (at least 1).

        Raises
        ------
        InputError
            When the query holds no word or ``limit`` is below 1.
        """
        if limit < 1:
            raise InputError("must be at least 1", field="limit")
        expression = match_expression(query)
        with self._lock:
            stems = self._stems(" ".join(_TERM.findall(query)))
            scores = self._scores(stems) if stems else {}
            ranked = sorted(scores, key=lambda rowid: -scores[rowid])[:limit]
            if not ranked:
                return []
            # snippet() of the body (column 3), or of the title (2) when only it matched.
            rows = self._db.execute(
                "SELECT rowid, kind, code, title, "
                "snippet(docs, 3, char(2), char(3), '…', ?), "
                "snippet(docs, 2, char(2), char(3), '…', ?) "
                f"FROM docs WHERE docs MATCH ? AND rowid IN ({', '.join('?' * len(ranked))})",
                (SNIPPET_TOKENS, SNIPPET_TOKENS, expression, *ranked)).fetchall()
        by_rowid = {row[0]: row[1:] for row in rows}
        hits = []
        for rowid in ranked:
            if rowid not in by_rowid:  # ranked on a stem the MATCH did not find: no snippet
                continue
            kind, code, title, body_snippet, title_snippet = by_rowid[rowid]
            snippet = body_snippet if _OPEN in body_snippet else title_snippet
            snippet = " ".join(snippet.split()).replace(_OPEN, "[").replace(_CLOSE, "]")
            hits.append(Hit(kind, code, title, snippet, scores[rowid]))
        return hits


def data_text(data: Any, *, skip_keys: frozenset[str] = frozenset(
        {"source", "url", "id", "references", "when", "code", "record", "kind",
         "category", "depth", "pih_risk", "evidence"})) -> str:
    """The prose held in a nested YAML/JSON value, one string per line.

    Used to index a modality's data file: labels, contraindication texts, mitigations,
    care instructions and notes are searchable; codes, rule predicates, sources and URLs
    are not.
    """
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if str(key) not in skip_keys:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return "\n".join(parts)

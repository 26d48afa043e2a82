"""Full-text search over claim text and quotes, one meaning on both backends (README "lookup").

What the user types is read into terms first (:func:`parse`): every word must match, ``word*`` matches words
starting so, ``"a phrase"`` matches those words in a row. The terms then become an FTS5 query on SQLite
(the ``claims_fts`` table, tokenizer ``unicode61 remove_diacritics 2``) or a ``tsquery`` on PostgreSQL
(``citevault_claim_words``, migration 0006, served by a GIN index). Both split text into runs of letters
and digits, in lower case, accents removed: a word is found the same way on either.

Ranking (FTS5's bm25, PostgreSQL's ``ts_rank``) costs a read of every matching row, so only the first
:data:`RANK_BOUND` matches in the index's own order are ranked: a query for "the" over a million claims
takes as long as one for a rare word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archive.index.statements import Statements, statements

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: At most this many matches are ranked; the best ``limit`` of them are returned.
RANK_BOUND = 1000
_TOKEN = re.compile(r"[^\W_]+")
_PART = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Term:
    """Words that must appear in a row (one word, or a phrase); ``prefix``: the last may go on."""

    words: tuple[str, ...]
    prefix: bool = False


def parse(query: str) -> list[Term]:
    """The terms of a query: quoted phrases, ``word*`` prefixes, plain words (punctuation splits words).

    >>> parse('budget "3.5 million" harb* AND')
    [Term(words=('budget',), prefix=False), Term(words=('3', '5', 'million'), prefix=False), Term(words=('harb',), prefix=True), Term(words=('and',), prefix=False)]
    >>> parse('"" * "')
    []
    """
    terms: list[Term] = []
    for phrase, bare in _PART.findall(query.lower()):
        if phrase or not bare:
            words = tuple(_TOKEN.findall(phrase))
            if words:
                terms.append(Term(words))
            continue
        words = tuple(_TOKEN.findall(bare))
        if not words:
            continue
        # a.b.c* is the phrase "a b c*": its words in a row, as FTS5 reads it
        terms.append(Term(words, prefix=bare.endswith("*")))
    return terms


def fts5_query(terms: list[Term]) -> str:
    """The FTS5 query of ``terms``: each quoted (no FTS5 syntax leaks), ``*`` after a prefix.

    >>> fts5_query(parse('budget "3.5 million" harb*'))
    '"budget" "3 5 million" "harb"*'
    """
    return " ".join(f'"{" ".join(t.words)}"' + ("*" if t.prefix else "") for t in terms)


def tsquery(terms: list[Term]) -> str:
    """The ``tsquery`` text of ``terms`` (words are letters and digits only: nothing to escape).

    >>> tsquery(parse('budget "3.5 million" harb*'))
    "'budget' & ( '3' <-> '5' <-> 'million' ) & 'harb':*"
    """
    parts = []
    for term in terms:
        words = [f"'{w}'" for w in term.words]
        if term.prefix:
            words[-1] += ":*"
        parts.append(words[0] if len(words) == 1 else "( " + " <-> ".join(words) + " )")
    return " & ".join(parts)


_SQLITE = ("SELECT c.id FROM (SELECT rowid, rank FROM claims_fts WHERE claims_fts MATCH :q LIMIT :bound) f "
               "JOIN claims c ON c.rowid = f.rowid ORDER BY f.rank, c.id LIMIT :n")
_POSTGRES = (
    "SELECT h.id FROM (SELECT id, text, quote FROM claims "
    "WHERE citevault_claim_words(text, quote) @@ to_tsquery('simple', citevault_fold(:q)) LIMIT :bound) h "
    "ORDER BY ts_rank(citevault_claim_words(h.text, h.quote), to_tsquery('simple', citevault_fold(:q))) DESC, "
    "h.id LIMIT :n")


def search_claim_ids(conn: Connection | Statements, words: str, limit: int = 20) -> list[str]:
    """Claim ids matching every term of ``words``, best first (see the module docstring)."""
    terms = parse(words)
    if not terms:
        return []
    run = statements(conn)
    if run.backend == "sqlite":
        stmt, query = _SQLITE, fts5_query(terms)
    elif run.backend == "postgresql":
        stmt, query = _POSTGRES, tsquery(terms)
    else:  # another engine: no full-text index, every term as a substring (slow, but the same answers mostly)
        return _substring_ids(run, terms, limit)
    return [r[0] for r in run.rows(stmt, {"q": query, "bound": max(RANK_BOUND, limit), "n": limit})]


def _substring_ids(run: Statements, terms: list[Term], limit: int) -> list[str]:
    clauses = " AND ".join(f"LOWER(text || ' ' || COALESCE(quote, '')) LIKE :w{i}" for i in range(len(terms)))
    params: dict[str, object] = {f"w{i}": f"%{' '.join(t.words)}%" for i, t in enumerate(terms)}
    params["n"] = limit
    return [r[0] for r in run.rows(f"SELECT id FROM claims WHERE {clauses} ORDER BY id LIMIT :n", params)]

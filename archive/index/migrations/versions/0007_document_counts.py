"""Per-document counts (issue 14): ``status`` and the document page of a document with a million claims
read a few rows instead of every claim and source.

``document_counts`` holds signed deltas: per document, how many of its distinct sources (``kind`` =
``source``) and of its claims (``kind`` = ``claim``) are in each state. The sum per (document, kind, state)
is the count. Rows are only ever inserted by writers, never updated, so concurrent crawl workers settling
sources of one document never wait on (or deadlock over) a shared counter row;
:func:`archive.index.counts.fold` sums a document's rows into one per state when they pile up.

* a trigger on ``sources`` (``AFTER UPDATE OF state``), on SQLite and PostgreSQL alike, adds the deltas of a
  state change: -1/+1 for each document citing the source, and for each claim citing it whose state (the
  rule of :data:`archive.states.CLAIM_PRECEDENCE`, spelt out below as it stands in this revision) moves;
* rows inserted with claims and citations (``add``, a crawl extracting a document, ``reindex``) are counted
  by :func:`archive.index.counts.refresh` in the same transaction;
* this migration fills the table for the documents already indexed.

Revision ID: 0007_document_counts
Revises: 0006_scale_out
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_document_counts"
down_revision = "0006_scale_out"
branch_labels = None
depends_on = None

#: archive.states.CLAIM_PRECEDENCE at this revision: a claim is in the first of these states one of its
#: sources is in, else archived (a claim whose state a source change can move has at least one source).
_PRECEDENCE = ("gone", "failed", "pending", "changed")


def _claim_state(state: str) -> str:
    steps = " ".join(f"WHEN SUM(CASE WHEN {state} = '{p}' THEN 1 ELSE 0 END) > 0 THEN '{p}'" for p in _PRECEDENCE)
    return f"CASE {steps} ELSE 'archived' END"


def _body(new: str, old: str) -> list[str]:
    """The trigger's statements; ``new``/``old`` spell the changed row (``new``/``old`` on SQLite,
    ``NEW``/``OLD`` in PL/pgSQL)."""
    docs = (f"FROM citations ci JOIN claims c ON c.id = ci.claim_id WHERE ci.source_id = {new}.id")
    per_claim = (
        f"SELECT c.document_id AS document_id, {_claim_state('s.state')} AS st_after, "
        f"{_claim_state(f'CASE WHEN s.id = {new}.id THEN {old}.state ELSE s.state END')} AS st_before "
        "FROM claims c JOIN citations ci ON ci.claim_id = c.id JOIN sources s ON s.id = ci.source_id "
        f"WHERE c.id IN (SELECT claim_id FROM citations WHERE source_id = {new}.id) GROUP BY c.id, c.document_id")
    return [
        (f"INSERT INTO document_counts (document_id, kind, state, n) SELECT DISTINCT c.document_id, 'source', "
         f"{old}.state, -1 {docs}"),
        (f"INSERT INTO document_counts (document_id, kind, state, n) SELECT DISTINCT c.document_id, 'source', "
         f"{new}.state, 1 {docs}"),
        ("INSERT INTO document_counts (document_id, kind, state, n) SELECT document_id, 'claim', state, SUM(n) "
         f"FROM (SELECT document_id, st_after AS state, 1 AS n FROM ({per_claim}) a WHERE st_after <> st_before "
         f"UNION ALL SELECT document_id, st_before, -1 FROM ({per_claim}) b WHERE st_after <> st_before) d "
         "GROUP BY document_id, state"),
    ]


_STATE_SQL = ("CASE WHEN COUNT(s.id) = 0 THEN 'unsourced' "
              + " ".join(f"WHEN SUM(CASE WHEN s.state = '{p}' THEN 1 ELSE 0 END) > 0 THEN '{p}'" for p in _PRECEDENCE)
              + " ELSE 'archived' END")

#: The counts of every document already indexed (archive.index.counts.refresh, as of this revision).
_FILL = [
    ("INSERT INTO document_counts (document_id, kind, state, n) SELECT ds.document_id, 'source', s.state, COUNT(*) "
     "FROM (SELECT DISTINCT c.document_id, ci.source_id FROM claims c JOIN citations ci ON ci.claim_id = c.id) ds "
     "JOIN sources s ON s.id = ds.source_id GROUP BY ds.document_id, s.state"),
    ("INSERT INTO document_counts (document_id, kind, state, n) SELECT document_id, 'claim', state, COUNT(*) "
     f"FROM (SELECT c.document_id AS document_id, {_STATE_SQL} AS state FROM claims c "
     "LEFT JOIN citations ci ON ci.claim_id = c.id LEFT JOIN sources s ON s.id = ci.source_id "
     "GROUP BY c.id, c.document_id) per_claim GROUP BY document_id, state"),
]


def upgrade() -> None:
    op.create_table(
        "document_counts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_index("ix_document_counts_document", "document_counts", ["document_id"])
    # a page of a document's claims in reading order, without sorting all of them (archive.index.lookup)
    op.create_index("ix_claims_document_position", "claims", ["document_id", "position"])
    if op.get_bind().dialect.name == "postgresql":
        statements = "; ".join(_body("NEW", "OLD"))
        op.execute("CREATE OR REPLACE FUNCTION citevault_document_counts() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {statements}; RETURN NULL; END $$")
        op.execute("CREATE TRIGGER document_counts_source_state AFTER UPDATE OF state ON sources FOR EACH ROW "
                   "WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION citevault_document_counts()")
    else:
        statements = "; ".join(_body("new", "old"))
        op.execute("CREATE TRIGGER document_counts_source_state AFTER UPDATE OF state ON sources "
                   f"WHEN old.state IS NOT new.state BEGIN {statements}; END")
    for sql in _FILL:
        op.execute(sql)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS document_counts_source_state" +
               (" ON sources" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS citevault_document_counts()")
    op.drop_index("ix_claims_document_position", "claims")
    op.drop_index("ix_document_counts_document", "document_counts")
    op.drop_table("document_counts")

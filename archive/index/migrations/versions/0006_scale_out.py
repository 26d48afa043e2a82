"""Scale-out (issue 14): PostgreSQL full-text search, worker heartbeats, a lease index.

* PostgreSQL only: ``citevault_claim_words(text, quote)``, the claim's words as a ``tsvector`` with the
  tokens SQLite's FTS5 ``unicode61 remove_diacritics 2`` makes (runs of letters and digits, lower case,
  accents removed when the ``unaccent`` extension can be created), and a GIN index over it.
  ``archive.index.search`` queries exactly that expression, so the index serves it.
* ``crawls.heartbeat_at``: a live worker's last sign of life (``archive.crawl.workers``); its leases
  expire when it stops renewing them, whatever host it ran on.
* ``ix_sources_lease_owner``: a worker renews and releases its leases by owner.

The index already stores WARC file names relative to the data home's ``warcs/`` (never paths), so
nothing is migrated for shared storage; an absolute or nested name would be refused on read.

Revision ID: 0006_scale_out
Revises: 0005_renderings
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_scale_out"
down_revision = "0005_renderings"
branch_labels = None
depends_on = None

#: The claim's words: non-alphanumerics to spaces (FTS5's unicode61 token rule), then the 'simple'
#: configuration (lower case, no stemming, no stop words). ``{fold}`` removes accents or not.
_WORDS = ("CREATE OR REPLACE FUNCTION citevault_claim_words(t text, q text) RETURNS tsvector "
          "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT to_tsvector('simple'::regconfig, "
          "regexp_replace({fold}(coalesce(t, '') || ' ' || coalesce(q, '')), '[^[:alnum:]]+', ' ', 'g')) $$")
_QUERY = ("CREATE OR REPLACE FUNCTION citevault_fold(w text) RETURNS text "
          "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {fold}(lower(w)) $$")


def _postgres_search() -> None:
    bind = op.get_bind()
    fold = "lower"
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        schema = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'").scalar()
        # unaccent(regdictionary, text) with the dictionary named is immutable in practice (the one-argument
        # form reads search_path); schema-qualified, so the function body does not depend on it either.
        op.execute(f"CREATE OR REPLACE FUNCTION citevault_unaccent(w text) RETURNS text LANGUAGE sql IMMUTABLE "
                   f"PARALLEL SAFE AS $$ SELECT lower({schema}.unaccent('{schema}.unaccent'::regdictionary, w)) $$")
        fold = "citevault_unaccent"
    except Exception:  # noqa: BLE001 - no unaccent (not installed, or not allowed): accents stay significant
        pass
    op.execute(_WORDS.format(fold=fold))
    op.execute(_QUERY.format(fold=fold))
    op.execute("CREATE INDEX ix_claims_words ON claims USING gin (citevault_claim_words(text, quote))")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_search()
    with op.batch_alter_table("crawls") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime))
    op.create_index("ix_sources_lease_owner", "sources", ["lease_owner"])


def downgrade() -> None:
    op.drop_index("ix_sources_lease_owner", "sources")
    with op.batch_alter_table("crawls") as batch:
        batch.drop_column("heartbeat_at")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_claims_words")
        op.execute("DROP FUNCTION IF EXISTS citevault_claim_words(text, text)")
        op.execute("DROP FUNCTION IF EXISTS citevault_fold(text)")
        op.execute("DROP FUNCTION IF EXISTS citevault_unaccent(text)")

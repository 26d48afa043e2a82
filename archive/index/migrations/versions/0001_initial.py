"""The first schema: documents, claims, sources, citations, crawls, captures, and claim full-text search.

Revision ID: 0001_initial
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("origin", sa.Text),
        sa.Column("sha256", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.Column("claim_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_documents_url", "documents", ["url"])
    op.create_table(
        "claims",
        sa.Column("id", sa.String(48), primary_key=True),
        sa.Column("document_id", sa.String(32), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("quote", sa.Text),
    )
    op.create_index("ix_claims_document_id", "claims", ["document_id"])
    op.create_table(
        "sources",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_fetched", sa.DateTime),
    )
    op.create_index("ix_sources_state", "sources", ["state"])
    op.create_table(
        "citations",
        sa.Column("claim_id", sa.String(48), sa.ForeignKey("claims.id"), primary_key=True),
        sa.Column("source_id", sa.String(32), sa.ForeignKey("sources.id"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("anchor", sa.Text),
    )
    op.create_index("ix_citations_source", "citations", ["source_id"])
    op.create_table(
        "crawls",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("requested", sa.Integer, nullable=False),
        sa.Column("archived", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
    )
    op.create_table(
        "captures",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("source_id", sa.String(32), sa.ForeignKey("sources.id")),
        sa.Column("document_id", sa.String(32)),
        sa.Column("crawl_id", sa.String(40)),
        sa.Column("record_type", sa.String(16), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("urlkey", sa.Text, nullable=False),
        sa.Column("timestamp", sa.String(14), nullable=False),
        sa.Column("fetched_at", sa.DateTime, nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("mime", sa.Text),
        sa.Column("content_type", sa.Text),
        sa.Column("payload_digest", sa.Text),
        sa.Column("payload_sha256", sa.String(64)),
        sa.Column("payload_length", sa.Integer),
        sa.Column("redirect_to", sa.Text),
        sa.Column("warc_file", sa.Text, nullable=False),
        sa.Column("warc_offset", sa.Integer, nullable=False),
        sa.Column("warc_length", sa.Integer, nullable=False),
        sa.Column("warc_record_id", sa.Text, nullable=False),
        sa.Column("refers_to", sa.String(40)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_captures_source", "captures", ["source_id", "fetched_at"])
    op.create_index("ix_captures_urlkey", "captures", ["urlkey", "timestamp"])
    op.create_index("ix_captures_document", "captures", ["document_id"])

    if op.get_bind().dialect.name == "sqlite":
        # Full-text search over claims, kept in step with the claims table by triggers.
        op.execute(
            "CREATE VIRTUAL TABLE claims_fts USING fts5(text, quote, content='claims', "
            "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER claims_fts_insert AFTER INSERT ON claims BEGIN "
            "INSERT INTO claims_fts(rowid, text, quote) VALUES (new.rowid, new.text, new.quote); END"
        )
        op.execute(
            "CREATE TRIGGER claims_fts_delete AFTER DELETE ON claims BEGIN "
            "INSERT INTO claims_fts(claims_fts, rowid, text, quote) "
            "VALUES ('delete', old.rowid, old.text, old.quote); END"
        )
        op.execute(
            "CREATE TRIGGER claims_fts_update AFTER UPDATE ON claims BEGIN "
            "INSERT INTO claims_fts(claims_fts, rowid, text, quote) "
            "VALUES ('delete', old.rowid, old.text, old.quote); "
            "INSERT INTO claims_fts(rowid, text, quote) VALUES (new.rowid, new.text, new.quote); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS claims_fts")
    for table in ("captures", "crawls", "citations", "sources", "claims", "documents"):
        op.drop_table(table)

"""Evidence checks: the text of each payload, and one verification per claim and capture.

Revision ID: 0002_evidence
Revises: 0001_initial

Both tables hold derived data (``citevault check`` recomputes them from the WARC files), so the downgrade
simply drops them.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_evidence"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "capture_texts",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("charset", sa.String(40)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("chars", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("extractor", sa.String(32), nullable=False),
        sa.Column("extracted_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "verifications",
        # No foreign keys: derived rows must not block rewriting the claims or captures they point to.
        sa.Column("claim_id", sa.String(48), primary_key=True),
        sa.Column("capture_id", sa.String(40), primary_key=True),
        sa.Column("source_id", sa.String(32), nullable=False),
        sa.Column("text_key", sa.String(80)),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("span_start", sa.Integer),
        sa.Column("span_end", sa.Integer),
        sa.Column("exact", sa.Text),
        sa.Column("prefix", sa.Text),
        sa.Column("suffix", sa.Text),
        sa.Column("fragment_url", sa.Text),
        sa.Column("anchor_state", sa.String(16)),
        sa.Column("baseline_capture_id", sa.String(40)),
        sa.Column("diff", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("checked_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_verifications_capture", "verifications", ["capture_id"])


def downgrade() -> None:
    op.drop_index("ix_verifications_capture", table_name="verifications")
    op.drop_table("verifications")
    op.drop_table("capture_texts")

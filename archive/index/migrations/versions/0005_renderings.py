"""Browser renderings (issue 11): a raw capture's screenshot and rendered text, and the browser capture.

Revision ID: 0005_renderings
Revises: 0004_page_assets
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_renderings"
down_revision = "0004_page_assets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "renderings",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("capture_id", sa.String(40), nullable=False),
        sa.Column("browser_capture_id", sa.String(40)),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("crawl_id", sa.String(40)),
        sa.Column("screenshot_warc_file", sa.Text),
        sa.Column("screenshot_offset", sa.Integer),
        sa.Column("screenshot_length", sa.Integer),
        sa.Column("text_warc_file", sa.Text),
        sa.Column("text_offset", sa.Integer),
        sa.Column("text_length", sa.Integer),
        sa.Column("text_chars", sa.Integer),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("browser", sa.String(64)),
        sa.Column("rendered_at", sa.DateTime, nullable=False),
        sa.Column("cut", sa.String(16)),
    )
    op.create_index("ix_renderings_capture", "renderings", ["capture_id", "rendered_at"])


def downgrade() -> None:
    op.drop_table("renderings")

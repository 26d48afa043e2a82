"""Page assets (issue 11): a capture's role (``asset``) and the page → asset links.

Revision ID: 0004_page_assets
Revises: 0003_recheck
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_page_assets"
down_revision = "0003_recheck"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.add_column(sa.Column("role", sa.String(16)))
    op.create_table(
        "page_assets",
        sa.Column("page_id", sa.String(40), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("capture_id", sa.String(40)),
        sa.Column("cut", sa.String(16)),
    )
    op.create_index("ix_page_assets_capture", "page_assets", ["capture_id"])


def downgrade() -> None:
    op.drop_table("page_assets")
    with op.batch_alter_table("captures") as batch:
        batch.drop_column("role")

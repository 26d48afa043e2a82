"""Re-checks: due times, failure counts, the evidence capture, leases for concurrent crawls, state history.

Revision ID: 0003_recheck
Revises: 0002_evidence
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_recheck"
down_revision = "0002_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("next_due", sa.DateTime))
        batch.add_column(sa.Column("failures", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("first_failure", sa.DateTime))
        batch.add_column(sa.Column("reason", sa.Text))
        batch.add_column(sa.Column("evidence_capture", sa.String(40)))
        batch.add_column(sa.Column("latest_good_capture", sa.String(40)))
        batch.add_column(sa.Column("lease_owner", sa.String(40)))
        batch.add_column(sa.Column("lease_until", sa.DateTime))
        batch.create_index("ix_sources_next_due", ["next_due"])
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("check_every", sa.Integer))
    with op.batch_alter_table("crawls") as batch:
        batch.add_column(sa.Column("pid", sa.Integer))
        batch.add_column(sa.Column("host", sa.Text))
    op.create_table(
        "source_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.String(32), sa.ForeignKey("sources.id"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("capture_id", sa.String(40)),
        sa.Column("crawl_id", sa.String(40)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_source_events_source", "source_events", ["source_id", "at"])


def downgrade() -> None:
    op.drop_table("source_events")
    with op.batch_alter_table("crawls") as batch:
        batch.drop_column("host")
        batch.drop_column("pid")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("check_every")
    with op.batch_alter_table("sources") as batch:
        batch.drop_index("ix_sources_next_due")
        for column in ("lease_until", "lease_owner", "latest_good_capture", "evidence_capture", "reason",
                       "first_failure", "failures", "next_due"):
            batch.drop_column(column)

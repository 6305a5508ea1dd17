"""The day a medication was started, so that intake can warn when it was last taken before.

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-03

A nullable ``started`` date on ``patient_medication``; existing rows keep NULL (not
recorded). Batch mode so that SQLite can alter the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patient_medication") as batch:
        batch.add_column(sa.Column("started", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patient_medication") as batch:
        batch.drop_column("started")

"""Observation settings and a lookup index for outcome queries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Device and photo analyses store the settings that produced each value (filter scales,
region definitions) beside it, so that a later re-analysis can be compared like with like;
outcome queries read one patient's series of one metric, hence the composite index.
Existing observations get ``settings`` NULL (unknown), which is what they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.add_column(sa.Column("settings", sa.JSON(), nullable=True))
        batch.create_index("ix_observation_patient_metric", ["patient_id", "kind", "metric"])


def downgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.drop_index("ix_observation_patient_metric")
        batch.drop_column("settings")

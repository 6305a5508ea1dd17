"""Anatomic region, view and scale of a photograph (DICOM and FHIR exchange, issue 17).

Revision ID: 0017
Revises: 0011
Create Date: 2026-12-03

A photograph exchanged as a DICOM VL Photographic Image carries the anatomic region it
shows, the view (frontal, left or right oblique or lateral) and its pixel size; dermatrack
keeps them on the ``photo`` row so that a photograph imported from DICOM (or given them at
import) sends them on again. Existing photographs get NULL (not recorded), which is what
they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photo") as batch:
        batch.add_column(sa.Column("region", sa.String(80), nullable=True))
        batch.add_column(sa.Column("view", sa.String(40), nullable=True))
        batch.add_column(sa.Column("mm_per_px", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photo") as batch:
        batch.drop_column("mm_per_px")
        batch.drop_column("view")
        batch.drop_column("region")

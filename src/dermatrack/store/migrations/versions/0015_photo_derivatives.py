"""Photo derivatives: what is computed once when a photograph is stored (a screen-sized
copy, the colour masks and landmarks, alignments onto a baseline photo), so that pages
and reports read it instead of recomputing it.

Revision ID: 0015
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo_derivative",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("photo_id", sa.String(16), nullable=False),
        sa.Column("baseline_id", sa.String(16), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["photo_id"], ["photo.id"],
                                name=op.f("fk_photo_derivative_photo_id_photo")),
        sa.ForeignKeyConstraint(["baseline_id"], ["photo.id"],
                                name=op.f("fk_photo_derivative_baseline_id_photo")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo_derivative")),
    )
    with op.batch_alter_table("photo_derivative") as batch:
        batch.create_index(batch.f("ix_photo_derivative_photo_id"), ["photo_id"])
        batch.create_index(batch.f("ix_photo_derivative_baseline_id"), ["baseline_id"])


def downgrade() -> None:
    with op.batch_alter_table("photo_derivative") as batch:
        batch.drop_index(batch.f("ix_photo_derivative_baseline_id"))
        batch.drop_index(batch.f("ix_photo_derivative_photo_id"))
    op.drop_table("photo_derivative")

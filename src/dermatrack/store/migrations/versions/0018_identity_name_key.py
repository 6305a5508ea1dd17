"""The identity's name with case and spacing aside, indexed (issue 19).

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-04

Registering a patient looks for likely duplicates: other patients of the same name (case
and spacing aside) with the same email, phone or date of birth. It read every identity to
compare names, so that a registration in a group's register of 40,000 patients read 40,000
rows. ``patient_identity.name_key`` holds the compared form of the name
(:func:`dermatrack.store.models.name_key`, kept by the model whenever the name is set) and
is indexed, so only the identities of the same name are read. Existing rows are filled here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH_ROWS = 5000


def _key(name: str | None) -> str | None:
    # The rule of dermatrack.store.models.name_key at the time of this revision.
    key = " ".join((name or "").casefold().split())
    return key or None


def upgrade() -> None:
    with op.batch_alter_table("patient_identity") as batch:
        batch.add_column(sa.Column("name_key", sa.String(200), nullable=True))
    connection = op.get_bind()
    identity = sa.table("patient_identity", sa.column("patient_id", sa.String),
                        sa.column("name", sa.String), sa.column("name_key", sa.String))
    rows = connection.execute(sa.select(identity.c.patient_id, identity.c.name)).all()
    update = (sa.update(identity).where(identity.c.patient_id == sa.bindparam("pid"))
              .values(name_key=sa.bindparam("key")))
    for start in range(0, len(rows), BATCH_ROWS):
        changed = [{"pid": pid, "key": _key(name)}
                   for pid, name in rows[start:start + BATCH_ROWS] if _key(name) is not None]
        if changed:
            connection.execute(update, changed)
    op.create_index("ix_patient_identity_name_key", "patient_identity", ["name_key"])


def downgrade() -> None:
    op.drop_index("ix_patient_identity_name_key", "patient_identity")
    with op.batch_alter_table("patient_identity") as batch:
        batch.drop_column("name_key")

"""The identity's name, email and phone prepared for searching, in one column (issue 19).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

The patient list's search matches any part of the name, email or phone, case aside. It
lower-cased the three fields of every identity for every search, which at 40,000 patients
was most of the cost of a search that finds nobody. ``patient_identity.search_text`` holds
the three in the compared form (:func:`dermatrack.store.models.search_text`, kept by the
model whenever a field is set), so a search compares one prepared string a row. Existing
rows are filled here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BATCH_ROWS = 5000


def _key(text: str | None) -> str | None:
    # The rule of dermatrack.store.models.search_key at this revision.
    key = " ".join((text or "").casefold().split())
    return key or None


def _search_text(name: str | None, email: str | None, phone: str | None) -> str | None:
    # dermatrack.store.models.search_text at this revision (fields joined by U+001F).
    return "\x1f".join(key for key in map(_key, (name, email, phone)) if key) or None


def upgrade() -> None:
    with op.batch_alter_table("patient_identity") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    connection = op.get_bind()
    identity = sa.table("patient_identity", sa.column("patient_id", sa.String),
                        sa.column("name", sa.String), sa.column("email", sa.String),
                        sa.column("phone", sa.String), sa.column("search_text", sa.Text))
    rows = connection.execute(sa.select(identity.c.patient_id, identity.c.name,
                                        identity.c.email, identity.c.phone)).all()
    update = (sa.update(identity).where(identity.c.patient_id == sa.bindparam("pid"))
              .values(search_text=sa.bindparam("text")))
    for start in range(0, len(rows), BATCH_ROWS):
        changed = [{"pid": pid, "text": _search_text(name, email, phone)}
                   for pid, name, email, phone in rows[start:start + BATCH_ROWS]]
        if changed:
            connection.execute(update, changed)


def downgrade() -> None:
    with op.batch_alter_table("patient_identity") as batch:
        batch.drop_column("search_text")

"""Indexes for the paged lists and the filters the pages use.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Each list is read a page at a time in a fixed order (keyset pagination,
``services/paging.py``); an index on the list's filter and order lets the database start at
the cursor and stop after one page instead of sorting every row:

* patients newest first: ``patient (created_at, id)``;
* a patient's visits, sessions and photos by date, observations by time of recording:
  ``(patient_id, date, id)`` and ``(patient_id, created_at, id)``;
* the audit log filtered by user: ``audit_event (actor)``.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_patient_created", "patient", ["created_at", "id"]),
    ("ix_visit_patient_date", "visit", ["patient_id", "date", "id"]),
    ("ix_treatment_session_patient_date", "treatment_session", ["patient_id", "date", "id"]),
    ("ix_observation_patient_created", "observation", ["patient_id", "created_at", "id"]),
    ("ix_photo_patient_created", "photo", ["patient_id", "created_at", "id"]),
    ("ix_audit_event_actor", "audit_event", ["actor"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table)

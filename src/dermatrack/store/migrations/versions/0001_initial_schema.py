"""Initial schema: the clinical record and its audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Patients and their separate identities, conditions, medications, allergies, consents,
concerns, treatment plans with scheduled sessions, visits, treatment sessions, expected
reactions, adverse events, scale scores, observations, photos, and the audit trail.

Written out in full (not ``metadata.create_all``) so that later model changes cannot
change what this revision does. Timestamps are ``DateTime(timezone=True)``: PostgreSQL
``timestamptz``; on SQLite, text that the model reads back as UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _soft_delete() -> list[sa.Column]:
    return [_timestamp("deleted_at"), sa.Column("deleted_by", sa.String(120)),
            sa.Column("delete_reason", sa.Text())]


def _id() -> sa.Column:
    return sa.Column("id", sa.String(16), nullable=False)


def _ref(name: str, table: str, nullable: bool = False) -> tuple[sa.Column, str]:
    """A string foreign key column to ``table``.id; ``_create`` adds its named constraint."""
    return sa.Column(name, sa.String(16), nullable=nullable), table


def _create(table: str, *items, indexes: tuple[str, ...] = ()) -> None:
    """Create ``table`` with a named primary key on ``id`` (unless one is given) and
    single-column indexes on ``indexes``."""
    resolved = []
    for item in items:
        if isinstance(item, tuple):
            column, target = item
            resolved += [column, sa.ForeignKeyConstraint(
                [column.name], [f"{target}.id"], name=op.f(f"fk_{table}_{column.name}_{target}"))]
        else:
            resolved.append(item)
    if not any(isinstance(i, sa.PrimaryKeyConstraint) for i in resolved):
        resolved.append(sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")))
    op.create_table(table, *resolved)
    for column in indexes:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def upgrade() -> None:
    _create(
        "audit_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _timestamp("at", nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        indexes=("at",),
    )
    op.create_index("ix_audit_event_entity", "audit_event", ["entity", "entity_id"])

    _create(
        "patient",
        _id(),
        sa.Column("date_of_birth", sa.Date()),
        sa.Column("age_years", sa.Integer()),
        sa.Column("age_recorded_on", sa.Date()),
        sa.Column("sex", sa.String(16)),
        sa.Column("fitzpatrick", sa.String(3)),
        _timestamp("created_at", nullable=False),
        *_soft_delete(),
    )
    _create(
        "patient_identity",
        _ref("patient_id", "patient"),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(200)),
        sa.Column("phone", sa.String(50)),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_identity")),
    )
    for table in ("patient_condition", "patient_allergy"):
        _create(table, _id(), _ref("patient_id", "patient"),
                sa.Column("code", sa.String(80), nullable=False), *_soft_delete(),
                indexes=("patient_id",))
    _create(
        "patient_medication",
        _id(), _ref("patient_id", "patient"),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("last_taken", sa.Date()),
        sa.Column("ongoing", sa.Boolean(), nullable=False),
        *_soft_delete(),
        indexes=("patient_id",),
    )
    _create(
        "consent",
        _id(), _ref("patient_id", "patient"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        _timestamp("signed_at", nullable=False),
        _timestamp("withdrawn_at"),
        *_soft_delete(),
        sa.CheckConstraint("kind IN ('treatment', 'photography', 'research')",
                           name=op.f("ck_consent_kind")),
        indexes=("patient_id",),
    )
    _create(
        "concern",
        _id(), _ref("patient_id", "patient"),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("region", sa.String(80)),
        sa.Column("severity", sa.Integer()),
        *_soft_delete(),
        sa.CheckConstraint("severity BETWEEN 1 AND 4", name=op.f("ck_concern_severity")),
        indexes=("patient_id",),
    )
    _create(
        "treatment_plan",
        _id(), _ref("patient_id", "patient"),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("notes", sa.Text()),
        *_soft_delete(),
        indexes=("patient_id",),
    )
    _create(
        "visit",
        _id(), _ref("patient_id", "patient"),
        sa.Column("timepoint", sa.String(40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text()),
        *_soft_delete(),
        indexes=("patient_id",),
    )
    _create(
        "observation",
        _id(), _ref("patient_id", "patient"), _ref("visit_id", "visit", nullable=True),
        sa.Column("region", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("metric", sa.String(80), nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("device", sa.String(120)),
        sa.Column("method", sa.String(200), nullable=False),
        sa.Column("source_sha256", sa.String(64)),
        _timestamp("created_at", nullable=False),
        *_soft_delete(),
        indexes=("patient_id", "visit_id"),
    )
    _create(
        "photo",
        _id(), _ref("patient_id", "patient"), _ref("visit_id", "visit", nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("stored_path", sa.String(300), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        _timestamp("taken_at"),
        _timestamp("created_at", nullable=False),
        *_soft_delete(),
        indexes=("patient_id", "visit_id", "sha256"),
    )
    _create(
        "planned_modality",
        _id(), _ref("plan_id", "treatment_plan"),
        sa.Column("modality", sa.String(80), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        *_soft_delete(),
        indexes=("plan_id",),
    )
    _create(
        "scale_score",
        _id(), _ref("patient_id", "patient"), _ref("visit_id", "visit"),
        sa.Column("instrument", sa.String(80), nullable=False),
        sa.Column("version", sa.String(40)),
        sa.Column("item_scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float()),
        sa.Column("rater", sa.String(120), nullable=False),
        sa.Column("blinded", sa.Boolean(), nullable=False),
        *_soft_delete(),
        indexes=("patient_id", "visit_id"),
    )
    _create(
        "treatment_session",
        _id(), _ref("patient_id", "patient"), _ref("visit_id", "visit", nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("operator", sa.String(120), nullable=False),
        sa.Column("modality", sa.String(80), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("immediate_reactions", sa.JSON(), nullable=False),
        sa.Column("parameter_findings", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text()),
        *_soft_delete(),
        indexes=("patient_id",),
    )
    _create(
        "adverse_event",
        _id(), _ref("patient_id", "patient"),
        _ref("session_id", "treatment_session", nullable=True),
        sa.Column("term", sa.String(120), nullable=False),
        sa.Column("onset", sa.Date(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("relatedness", sa.String(40)),
        sa.Column("action", sa.Text()),
        sa.Column("outcome", sa.String(80)),
        sa.Column("resolved_on", sa.Date()),
        sa.Column("classification_reason", sa.Text()),
        sa.Column("notes", sa.Text()),
        *_soft_delete(),
        sa.CheckConstraint("grade BETWEEN 1 AND 5", name=op.f("ck_adverse_event_grade")),
        indexes=("patient_id", "session_id"),
    )
    _create(
        "expected_reaction",
        _id(), _ref("patient_id", "patient"), _ref("session_id", "treatment_session"),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("onset", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date()),
        sa.Column("notes", sa.Text()),
        *_soft_delete(),
        indexes=("patient_id", "session_id"),
    )
    _create(
        "scheduled_session",
        _id(), _ref("planned_modality_id", "planned_modality"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=False),
        _ref("session_id", "treatment_session", nullable=True),
        *_soft_delete(),
        indexes=("planned_modality_id",),
    )


def downgrade() -> None:
    # Children before parents, so that foreign keys never dangle.
    for table in ("scheduled_session", "expected_reaction", "adverse_event",
                  "treatment_session", "scale_score", "planned_modality", "photo",
                  "observation", "visit", "treatment_plan", "concern", "consent",
                  "patient_medication", "patient_allergy", "patient_condition",
                  "patient_identity", "patient", "audit_event"):
        op.drop_table(table)

"""The clinic's day: appointments, consent documents, products and lots, treatment maps,
standard photo views.

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-03

New tables ``appointment``, ``consent_template``, ``consent_signature``, ``product``,
``product_lot``, ``session_product`` and ``treatment_mark``
(:mod:`dermatrack.store.clinic_day`); ``consent.scope`` (the modality a treatment consent
covers; NULL, as for every existing consent, means every treatment) and ``photo.view``
(NULL for existing photos: the view was not recorded).

The rules the services check are enforced here too, so that no other writer can break
them: unique lot numbers per product and one active template version per kind and scope
(unique indexes), and triggers that refuse to change a signed consent (only its
withdrawal time may be set, once), to edit a template's text, or to record a lot that had
expired before the session's day. Trigger violations are integrity errors on both SQLite
(``RAISE(ABORT)``) and PostgreSQL (SQLSTATE 23000).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0012"
branch_labels = None
depends_on = None

SIGNED = "a signed consent cannot be changed or deleted; withdraw it instead"
CONSENT = "a consent cannot be changed; only its withdrawal can be recorded, once"
TEMPLATE = "a consent template version cannot be edited; add a new version"
EXPIRED = "the lot had expired before the session"

_CONSENT_CHANGED = ("NEW.patient_id {ne} OLD.patient_id OR NEW.kind {ne} OLD.kind OR "
                    "NEW.version {ne} OLD.version OR NEW.signed_at {ne} OLD.signed_at OR "
                    "NEW.scope {ne} OLD.scope OR "
                    "(OLD.withdrawn_at IS NOT NULL AND NEW.withdrawn_at {ne} OLD.withdrawn_at)")
_TEMPLATE_CHANGED = ("NEW.kind {ne} OLD.kind OR NEW.scope {ne} OLD.scope OR "
                     "NEW.version {ne} OLD.version OR NEW.title {ne} OLD.title OR "
                     "NEW.body {ne} OLD.body OR NEW.body_sha256 {ne} OLD.body_sha256")
_LOT_EXPIRED = ("(SELECT expiry FROM product_lot WHERE id = NEW.lot_id) < "
                "(SELECT date FROM treatment_session WHERE id = NEW.session_id)")


def _id(prefix_length: int = 16) -> sa.Column:
    return sa.Column("id", sa.String(prefix_length), nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(column: str, table: str, source: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"],
                                   name=op.f(f"fk_{source}_{column}_{table}"))


def upgrade() -> None:
    op.create_table(
        "appointment",
        _id(), sa.Column("patient_id", sa.String(16), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("practitioner", sa.String(120), nullable=False),
        sa.Column("room", sa.String(40)),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("scheduled_session_id", sa.String(16)),
        sa.Column("timepoint", sa.String(40)),
        sa.Column("notes", sa.Text()),
        _ts("created_at"),
        sa.CheckConstraint("kind IN ('consultation', 'session', 'assessment')",
                           name=op.f("ck_appointment_kind")),
        sa.CheckConstraint("status IN ('booked', 'arrived', 'done', 'no-show', 'cancelled')",
                           name=op.f("ck_appointment_status")),
        sa.CheckConstraint("minutes BETWEEN 5 AND 480", name=op.f("ck_appointment_minutes")),
        _fk("patient_id", "patient", "appointment"),
        _fk("scheduled_session_id", "scheduled_session", "appointment"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
    )
    op.create_index("ix_appointment_patient_id", "appointment", ["patient_id"])
    op.create_index("ix_appointment_date", "appointment", ["date"])
    live = "status IN ('booked', 'arrived')"
    op.create_index("uq_appointment_practitioner_slot", "appointment",
                    ["practitioner", "date", "start"], unique=True,
                    sqlite_where=sa.text(live), postgresql_where=sa.text(live))
    booked = "status != 'cancelled' AND scheduled_session_id IS NOT NULL"
    op.create_index("uq_appointment_scheduled_session", "appointment",
                    ["scheduled_session_id"], unique=True,
                    sqlite_where=sa.text(booked), postgresql_where=sa.text(booked))

    op.create_table(
        "consent_template",
        _id(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint("kind IN ('treatment', 'photography', 'research')",
                           name=op.f("ck_consent_template_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_template")),
        sa.UniqueConstraint("kind", "scope", "version", name="uq_consent_template_version"),
    )
    op.create_index("uq_consent_template_active", "consent_template", ["kind", "scope"],
                    unique=True, sqlite_where=sa.text("active"),
                    postgresql_where=sa.text("active"))

    with op.batch_alter_table("consent") as batch:
        batch.add_column(sa.Column("scope", sa.String(80), nullable=True))

    op.create_table(
        "consent_signature",
        sa.Column("consent_id", sa.String(16), nullable=False),
        sa.Column("template_id", sa.String(16), nullable=False),
        _ts("signed_at"),
        sa.Column("witness", sa.String(120), nullable=False),
        sa.Column("signature_png", sa.LargeBinary(), nullable=False),
        sa.Column("signature_sha256", sa.String(64), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        _fk("consent_id", "consent", "consent_signature"),
        _fk("template_id", "consent_template", "consent_signature"),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_consent_signature")),
    )
    op.create_index("ix_consent_signature_template_id", "consent_signature", ["template_id"])

    op.create_table(
        "product",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint("kind IN ('filler', 'neurotoxin', 'biostimulator', 'skin_booster', "
                           "'peel', 'topical', 'consumable', 'other')",
                           name=op.f("ck_product_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("name", "manufacturer", name="uq_product_name"),
    )
    op.create_table(
        "product_lot",
        _id(),
        sa.Column("product_id", sa.String(16), nullable=False),
        sa.Column("lot_number", sa.String(80), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date()),
        _ts("created_at"),
        _fk("product_id", "product", "product_lot"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_lot")),
        sa.UniqueConstraint("product_id", "lot_number", name="uq_product_lot_product_id"),
    )
    op.create_index("ix_product_lot_lot_number", "product_lot", ["lot_number"])
    op.create_table(
        "session_product",
        _id(),
        sa.Column("session_id", sa.String(16), nullable=False),
        sa.Column("lot_id", sa.String(16), nullable=False),
        sa.Column("amount", sa.Float()),
        sa.Column("unit", sa.String(20)),
        sa.CheckConstraint("amount IS NULL OR amount > 0", name=op.f("ck_session_product_amount")),
        _fk("session_id", "treatment_session", "session_product"),
        _fk("lot_id", "product_lot", "session_product"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_product")),
    )
    op.create_index("ix_session_product_session_id", "session_product", ["session_id"])
    op.create_index("ix_session_product_lot_id", "session_product", ["lot_id"])
    op.create_table(
        "treatment_mark",
        _id(),
        sa.Column("session_id", sa.String(16), nullable=False),
        sa.Column("patient_id", sa.String(16), nullable=False),
        sa.Column("view", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("lot_id", sa.String(16)),
        sa.Column("amount", sa.Float()),
        sa.Column("unit", sa.String(20)),
        sa.Column("notes", sa.Text()),
        sa.CheckConstraint("view IN ('front', 'left', 'right')",
                           name=op.f("ck_treatment_mark_view")),
        sa.CheckConstraint("kind IN ('zone', 'pass', 'injection', 'test_spot')",
                           name=op.f("ck_treatment_mark_kind")),
        sa.CheckConstraint("amount IS NULL OR amount > 0", name=op.f("ck_treatment_mark_amount")),
        _fk("session_id", "treatment_session", "treatment_mark"),
        _fk("patient_id", "patient", "treatment_mark"),
        _fk("lot_id", "product_lot", "treatment_mark"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_mark")),
    )
    op.create_index("ix_treatment_mark_session_id", "treatment_mark", ["session_id"])
    op.create_index("ix_treatment_mark_patient_id", "treatment_mark", ["patient_id"])

    with op.batch_alter_table("photo") as batch:
        # The column itself came with revision 0017 (DICOM and FHIR exchange).
        batch.create_check_constraint(
            op.f("ck_photo_view"),
            "view IS NULL OR view IN ('front', 'left_45', 'right_45', 'left_90', 'right_90', "
            "'closeup')")

    _create_triggers()


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        ne = "IS DISTINCT FROM"
        op.execute("CREATE FUNCTION dermatrack_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = '23000'; END $$")
        op.execute("CREATE FUNCTION dermatrack_session_lot_check() RETURNS trigger "
                   f"LANGUAGE plpgsql AS $$ BEGIN IF {_LOT_EXPIRED} THEN RAISE EXCEPTION "
                   f"'{EXPIRED}' USING ERRCODE = '23000'; END IF; RETURN NEW; END $$")
        op.execute("CREATE TRIGGER trg_consent_signature_frozen BEFORE UPDATE OR DELETE ON "
                   "consent_signature FOR EACH ROW EXECUTE FUNCTION "
                   f"dermatrack_refuse('{SIGNED}')")
        op.execute("CREATE TRIGGER trg_consent_frozen BEFORE UPDATE ON consent FOR EACH ROW "
                   f"WHEN ({_CONSENT_CHANGED.format(ne=ne)}) "
                   f"EXECUTE FUNCTION dermatrack_refuse('{CONSENT}')")
        op.execute("CREATE TRIGGER trg_consent_template_frozen BEFORE UPDATE ON "
                   f"consent_template FOR EACH ROW WHEN ({_TEMPLATE_CHANGED.format(ne=ne)}) "
                   f"EXECUTE FUNCTION dermatrack_refuse('{TEMPLATE}')")
        op.execute("CREATE TRIGGER trg_session_product_expired BEFORE INSERT ON "
                   "session_product FOR EACH ROW EXECUTE FUNCTION "
                   "dermatrack_session_lot_check()")
        return
    ne = "IS NOT"
    op.execute("CREATE TRIGGER trg_consent_signature_frozen BEFORE UPDATE ON "
               f"consent_signature BEGIN SELECT RAISE(ABORT, '{SIGNED}'); END")
    op.execute("CREATE TRIGGER trg_consent_signature_kept BEFORE DELETE ON "
               f"consent_signature BEGIN SELECT RAISE(ABORT, '{SIGNED}'); END")
    op.execute(f"CREATE TRIGGER trg_consent_frozen BEFORE UPDATE ON consent WHEN "
               f"{_CONSENT_CHANGED.format(ne=ne)} BEGIN SELECT RAISE(ABORT, '{CONSENT}'); END")
    op.execute(f"CREATE TRIGGER trg_consent_template_frozen BEFORE UPDATE ON consent_template "
               f"WHEN {_TEMPLATE_CHANGED.format(ne=ne)} "
               f"BEGIN SELECT RAISE(ABORT, '{TEMPLATE}'); END")
    op.execute(f"CREATE TRIGGER trg_session_product_expired BEFORE INSERT ON session_product "
               f"WHEN {_LOT_EXPIRED} BEGIN SELECT RAISE(ABORT, '{EXPIRED}'); END")


def _drop_triggers() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table in (("trg_consent_signature_frozen", "consent_signature"),
                        ("trg_consent_signature_kept", "consent_signature"),
                        ("trg_consent_frozen", "consent"),
                        ("trg_consent_template_frozen", "consent_template"),
                        ("trg_session_product_expired", "session_product")):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgres
                   else f"DROP TRIGGER IF EXISTS {name}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS dermatrack_refuse()")
        op.execute("DROP FUNCTION IF EXISTS dermatrack_session_lot_check()")


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table("photo") as batch:
        batch.drop_constraint(op.f("ck_photo_view"), type_="check")
    for table in ("treatment_mark", "session_product", "product_lot", "product",
                  "consent_signature"):
        op.drop_table(table)
    with op.batch_alter_table("consent") as batch:
        batch.drop_column("scope")
    op.drop_table("consent_template")
    op.drop_table("appointment")

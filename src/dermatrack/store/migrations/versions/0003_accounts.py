"""Accounts of the web app: username, role, argon2 password hash, active flag.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

The table is called ``account`` because ``user`` is a reserved word in PostgreSQL.
Roles are limited by a check constraint to the four of issue 7.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('clinician', 'reception', 'researcher', 'admin')",
                           name=op.f("ck_account_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("username", name=op.f("uq_account_username")),
    )


def downgrade() -> None:
    op.drop_table("account")

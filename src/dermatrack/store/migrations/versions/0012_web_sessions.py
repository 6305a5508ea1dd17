"""Server-side page sessions of the web app, so that signing out ends a session.

Revision ID: 0012
Revises: 0017
Create Date: 2026-12-03

One row per sign-in: the SHA-256 of the cookie's random token (never the token), who,
from where, when it was created and last used, its absolute expiry, and when and why it
ended (``signout``, ``idle``, ``expired``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_session_token_hash")),
    )
    with op.batch_alter_table("web_session") as batch:
        batch.create_index(batch.f("ix_web_session_username"), ["username"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_session") as batch:
        batch.drop_index(batch.f("ix_web_session_username"))
    op.drop_table("web_session")

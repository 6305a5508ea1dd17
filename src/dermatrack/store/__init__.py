"""Persistence: SQLAlchemy 2 models, Alembic migrations and the content-addressed file store.

This package is an adapter. Nothing outside :mod:`dermatrack.services` should open a
database session itself; the services give one transaction per call and write the audit
trail (see :mod:`dermatrack.services.common`).
"""

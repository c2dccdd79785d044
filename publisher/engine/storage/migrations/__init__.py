"""Alembic migrations of the publisher database; run with `publisher db upgrade` (and on start)."""

"""Alembic migrations: one history that builds the same schema on SQLite and PostgreSQL."""

"""INSERT statements with ON CONFLICT, for the two databases peruwire supports.

Both SQLite and PostgreSQL speak ``INSERT … ON CONFLICT``; SQLAlchemy builds it from each
dialect's own ``insert``, so this is the one place that picks between them.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(dialect: str, table: Table):
    """An ``INSERT`` that knows ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert(dialect: str, table: Table, key: list[str], update_columns: list[str]):
    """``INSERT … ON CONFLICT (key) DO UPDATE SET column = excluded.column``."""
    statement = insert_for(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=key,
        set_={column: statement.excluded[column] for column in update_columns},
    )

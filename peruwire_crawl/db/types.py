"""Column types that read and write the same Python values on SQLite and PostgreSQL.

- ``UtcDateTime``: aware ``datetime`` in UTC, whole seconds. PostgreSQL ``timestamptz``;
  SQLite ISO 8601 text such as ``2023-06-16T00:00:00+00:00`` (sorts as it reads, and
  SQLite's date functions, DuckDB and pandas all parse it). Accepts ISO strings too.
- ``JsonList``: a list of strings. PostgreSQL ``jsonb``; SQLite JSON text, UTF-8 as
  written (``["Zoë"]``, not ``["Zo\\u00eb"]``), readable by ``json_each``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from peruwire_crawl.times import to_stored_utc


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        value = to_stored_utc(value)
        if value is not None and dialect.name == "sqlite":
            return value.isoformat()
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return to_stored_utc(value)


class JsonList(TypeDecorator[list]):
    impl = Text()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = list(value)
        if dialect.name == "postgresql":
            return value
        return json.dumps(value, ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> list | None:
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)

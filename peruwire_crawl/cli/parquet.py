"""Parquet files of ``peruwire export`` (pyarrow, from the analysts' extra)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from more_itertools import chunked

from peruwire_crawl.cli.base import CommandError
from peruwire_crawl.db.queries import EXPORT_COLUMNS

ROW_GROUP = 1000  # rows per Parquet row group: memory stays flat on large databases


def _schema():
    import pyarrow as pa

    time, texts = pa.timestamp("us", tz="UTC"), pa.list_(pa.string())
    types = {"id": pa.int64(), "published_at": time, "modified_at": time, "first_seen_at": time,
             "last_seen_at": time, "changed_at": time, "authors": texts, "sections": texts,
             "translations": texts, "complete": pa.bool_()}
    return pa.schema([(column, types.get(column, pa.string())) for column in EXPORT_COLUMNS])


def write_parquet(rows: Iterable[dict[str, Any]], path: str) -> int:
    """``rows`` (``queries.export_rows``) into a Parquet file with typed columns, in the
    export's column order; returns how many were written."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise CommandError("Parquet export needs pyarrow: pip install 'peruwire[analysts]'") from None
    schema = _schema()
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in chunked(rows, ROW_GROUP):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
        if not count:
            writer.write_table(schema.empty_table())
    return count

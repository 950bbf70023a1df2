"""Parquet in, Parquet out: every page is read (so a damaged file is caught) and rewritten."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from yaosu.catalog.ingest.common import check_column_names
from yaosu.catalog.ingest.errors import CorruptFile, NoDataRows, TooManyColumns


def to_parquet(path: Path, out: Path, *, max_columns: int) -> int:
    rows = 0
    try:
        source = pq.ParquetFile(path)
        if source.metadata.num_columns > max_columns:  # from the footer, before any page
            raise TooManyColumns(columns=source.metadata.num_columns, limit=max_columns)
        check_column_names(source.schema_arrow.names)
        with pq.ParquetWriter(out, source.schema_arrow, compression="snappy") as writer:
            for batch in source.iter_batches(batch_size=65536):
                rows += batch.num_rows
                writer.write_batch(batch)
    except (pa.ArrowException, OSError) as exc:
        raise CorruptFile(format="Parquet", problem=str(exc)[:200]) from exc
    if rows == 0:
        raise NoDataRows()
    return rows

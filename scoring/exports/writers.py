"""Writing one table in batches: Parquet (one row group per batch), JSONL or CSV.

A writer holds at most one batch of rows; nested columns (lists, structs) are JSON text in CSV.
"""
from __future__ import annotations

import csv
import json
from datetime import datetime
from operator import itemgetter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

EXTENSIONS = {"parquet": "parquet", "jsonl": "jsonl", "csv": "csv"}


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class TableWriter:
    """``write(rows)`` a batch at a time, then ``close()``; ``rows`` counts what was written."""

    def __init__(self, path: Path, schema: pa.Schema, file_format: str):
        self.path, self.schema, self.format, self.rows = path, schema, file_format, 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = None
        self._parquet = None
        self._csv = None
        self._nested = [f.name for f in schema if pa.types.is_nested(f.type)]
        self._values = itemgetter(*schema.names)  # a row's values in column order, in one C call
        if file_format == "parquet":
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self._file = path.open("w", encoding="utf-8", newline="")
            if file_format == "csv":
                self._csv = csv.DictWriter(self._file, fieldnames=schema.names)
                self._csv.writeheader()

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        self.rows += len(rows)
        if self._parquet is not None:  # columns, then Arrow: several times faster than from_pylist
            try:
                columns = list(zip(*map(self._values, rows)))
            except KeyError:  # a row without some column: null there
                columns = [[row.get(name) for row in rows] for name in self.schema.names]
            self._parquet.write_batch(pa.RecordBatch.from_arrays(
                [pa.array(values, type=field.type) for values, field in zip(columns, self.schema)], schema=self.schema))
        elif self._csv is not None:
            for row in rows:
                self._csv.writerow({k: (json.dumps(v, default=_json_default) if k in self._nested and v is not None
                                        else v.isoformat() if isinstance(v, datetime) else v)
                                    for k, v in row.items()})
        else:
            self._file.write("".join(json.dumps({k: row.get(k) for k in self.schema.names}, default=_json_default,
                                                ensure_ascii=False) + "\n" for row in rows))

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._file is not None:
            self._file.close()

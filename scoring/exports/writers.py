"""Writing one table in batches: Parquet (one row group per batch), JSONL or CSV.

A writer holds at most one batch of rows; nested columns (lists, structs) are JSON text in CSV.
Rows come as dicts, or as a ``Block``: rows that repeat most of their values (a judgment's row
repeats its item's columns) keep the repeated part once, and Parquet builds those columns once
per distinct part and repeats them in Arrow (``take``), not in Python.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
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


@dataclass
class Block:
    """Rows as shared parts and own values: row ``k`` is ``shared[index[k]]`` with the columns
    ``own_names`` set to ``own[k]``."""
    own_names: tuple[str, ...] = ()
    shared: list[dict] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    own: list[tuple] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.index)

    def extend(self, rows: "list[dict] | Block") -> None:
        """Append dict rows (each its own shared part) or another block with the same own columns."""
        base = len(self.shared)
        if isinstance(rows, Block):
            if not self.index:
                self.own_names = rows.own_names
            if rows.own_names != self.own_names:
                raise ValueError(f"block columns {rows.own_names} differ from {self.own_names}")
            self.shared.extend(rows.shared)
            self.index.extend([base + i for i in rows.index])
            self.own.extend(rows.own)
            return
        self.shared.extend(rows)
        self.index.extend(range(base, base + len(rows)))
        if self.own_names:
            self.own.extend(tuple(row.get(name) for name in self.own_names) for row in rows)

    def rows(self):
        """The rows as dicts, in order."""
        names = self.own_names
        for i, own in zip(self.index, self.own) if names else ((i, ()) for i in self.index):
            yield {**self.shared[i], **dict(zip(names, own))}


class TableWriter:
    """``write(rows)`` a batch at a time, then ``close()``; ``rows`` counts what was written."""

    def __init__(self, path: Path, schema: pa.Schema, file_format: str):
        self.path, self.schema, self.format, self.rows = path, schema, file_format, 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = None
        self._parquet = None
        self._csv = None
        self._nested = [f.name for f in schema if pa.types.is_nested(f.type)]
        if file_format == "parquet":
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self._file = path.open("w", encoding="utf-8", newline="")
            if file_format == "csv":
                self._csv = csv.DictWriter(self._file, fieldnames=schema.names)
                self._csv.writeheader()

    def write(self, rows: "list[dict] | Block") -> None:
        if not len(rows):
            return
        self.rows += len(rows)
        if self._parquet is not None:
            if not isinstance(rows, Block):
                rows = Block((), rows, list(range(len(rows))))
            self._parquet.write_batch(self._record_batch(rows))
            return
        if isinstance(rows, Block):
            rows = rows.rows()
        if self._csv is not None:
            for row in rows:
                self._csv.writerow({k: (json.dumps(v, default=_json_default) if k in self._nested and v is not None
                                        else v.isoformat() if isinstance(v, datetime) else v)
                                    for k, v in row.items()})
        else:
            self._file.write("".join(json.dumps({k: row.get(k) for k in self.schema.names}, default=_json_default,
                                                ensure_ascii=False) + "\n" for row in rows))

    def _record_batch(self, block: Block) -> pa.RecordBatch:
        """Columns, then Arrow (several times faster than ``from_pylist``): the shared columns once
        per shared part, repeated by ``take`` unless every row has its own part."""
        own = dict(zip(block.own_names, zip(*block.own))) if block.own_names else {}
        names = [name for name in self.schema.names if name not in own]
        shared = None
        if len(names) > 1:
            try:
                shared = dict(zip(names, zip(*map(itemgetter(*names), block.shared))))
            except KeyError:  # a row without some column: null there (below)
                pass
        if shared is None:
            shared = {name: [row.get(name) for row in block.shared] for name in names}
        repeat = None if block.index == list(range(len(block.shared))) else pa.array(block.index, type=pa.int64())
        arrays = []
        for f in self.schema:
            if f.name in own:
                arrays.append(pa.array(own[f.name], type=f.type))
            else:
                values = pa.array(shared[f.name], type=f.type)
                arrays.append(values if repeat is None else values.take(repeat))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._file is not None:
            self._file.close()

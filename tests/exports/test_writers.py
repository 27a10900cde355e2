"""The table writer: rows given as a ``Block`` (shared parts plus own values) are written exactly as
the same rows given as dicts, in every format."""
from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scoring.exports.writers import Block, TableWriter

SCHEMA = pa.schema([("item_id", pa.string()), ("chosen", pa.string()), ("tags", pa.list_(pa.string())),
                    ("rater", pa.string()), ("side", pa.struct([("label", pa.string())])),
                    ("created_at", pa.timestamp("us", tz="UTC"))])
OWN = ("rater", "side", "created_at")
WHEN = datetime(2026, 6, 1, 12, 30, tzinfo=timezone.utc)


def blocks() -> list[Block]:
    """Two items: the first with two answers (shared parts) over three rows, the second with one."""
    first = Block(OWN, [{"item_id": "i1", "chosen": "a", "tags": ["x"]}, {"item_id": "i1", "chosen": "b", "tags": []}],
                  [0, 1, 0], [("r1", {"label": "a"}, WHEN), ("r2", None, WHEN), ("r3", {"label": "b"}, None)])
    second = Block(OWN, [{"item_id": "i2", "chosen": None, "tags": None}], [0], [("r1", {"label": "b"}, WHEN)])
    return [first, second]


def as_dicts(parts: list[Block]) -> list[dict]:
    return [row for part in parts for row in part.rows()]


def test_block_rows_are_the_shared_part_with_own_values():
    rows = as_dicts(blocks())
    assert [(r["item_id"], r["chosen"], r["rater"]) for r in rows] == [
        ("i1", "a", "r1"), ("i1", "b", "r2"), ("i1", "a", "r3"), ("i2", None, "r1")]
    assert rows[1]["side"] is None and rows[2]["created_at"] is None and rows[3]["tags"] is None


def test_blocks_extend_into_one_batch_and_refuse_other_columns():
    batch = Block()
    for part in blocks():
        batch.extend(part)
    assert len(batch) == 4 and batch.index == [0, 1, 0, 2] and batch.own_names == OWN
    with pytest.raises(ValueError):
        batch.extend(Block(("rater",), [{"item_id": "i3"}], [0], [("r9",)]))


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_a_block_is_written_as_its_rows(tmp_path, fmt):
    batch = Block()
    for part in blocks():
        batch.extend(part)
    written = {}
    for name, rows in (("block", batch), ("dicts", as_dicts(blocks()))):
        writer = TableWriter(tmp_path / name / f"t.{fmt}", SCHEMA, fmt)
        writer.write(rows)
        writer.close()
        assert writer.rows == 4
        written[name] = (tmp_path / name / f"t.{fmt}").read_bytes()
    assert written["block"] == written["dicts"]
    if fmt == "parquet":
        table = pq.read_table(tmp_path / "block" / "t.parquet")
        assert table.column("chosen").to_pylist() == ["a", "b", "a", None]
        assert table.column("side").to_pylist() == [{"label": "a"}, None, {"label": "b"}, {"label": "b"}]
        assert table.column("tags").to_pylist() == [["x"], [], ["x"], None]

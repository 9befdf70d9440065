"""The results folder: atomic writes, part files, schema unification, consolidation."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from copsim.sweep.storage import ResultStore, atomic_write, unified_schema


def test_atomic_write_leaves_nothing_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.txt"

    def broken(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    assert list(tmp_path.iterdir()) == []
    atomic_write(target, lambda tmp: tmp.write_text("whole"))
    assert target.read_text() == "whole" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_chunk_is_done_only_when_every_listed_part_is_whole(tmp_path):
    store = ResultStore(tmp_path)
    steps = pa.table({"run": [0, 0], "step": [0, 1]})
    store.write_chunk(3, {"steps": steps, "runs": pa.table({"run": [0]})})
    assert store.done_chunks() == {3}
    listed = store.read_manifest()["files"]["parts/steps-000003.parquet"]
    assert listed["bytes"] == store.part_path("steps", 3).stat().st_size
    assert len(listed["sha256"]) == 64
    store.part_path("steps", 3).unlink()  # a lost steps part: the chunk is not done
    assert store.done_chunks() == set()
    assert store.chunk_problems() == [(3, "parts/steps-000003.parquet", "is missing")]
    store.write_chunk(3, {"steps": steps, "runs": pa.table({"run": [0]})})
    runs = store.part_path("runs", 3)
    runs.write_bytes(runs.read_bytes()[:-10])  # truncated
    assert store.done_chunks() == set()
    assert "truncated" in store.chunk_problems()[0][2]
    store.write_chunk(3, {"steps": steps, "runs": pa.table({"run": [0]})})
    data = bytearray(runs.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte flipped
    runs.write_bytes(bytes(data))
    assert ResultStore(tmp_path).done_chunks() == set()  # a new reader checks the sha256 too
    (store.parts / ".runs-000004.parquet.abcd1234.tmp").write_text("partial")
    (store.parts / ".my-notes.tmp").write_text("not copsim's")
    store.remove_temp_files()
    assert sorted(p.name for p in store.parts.iterdir()) == [
        ".my-notes.tmp",
        "runs-000003.parquet",
        "steps-000003.parquet",
    ]


def test_parts_with_different_columns_merge_in_run_order(tmp_path):
    store = ResultStore(tmp_path)
    ok = pa.table(
        {
            "run": [2, 3],
            "status": ["ok", "ok"],
            "error": [None, None],
            "steps": [10, 12],
            "label": ["expansive", "defensive"],
        }
    )
    failed = pa.table(
        {
            "run": [0, 1],
            "status": ["failed", "ok"],
            "error": ["boom", None],
            "label": [None, "stagnant"],
        }
    )
    store.write_chunk(1, {"runs": ok})
    store.write_chunk(0, {"runs": failed})
    counts = store.consolidate(["status", "label"])
    assert counts == {"runs": 4}
    table = pq.read_table(tmp_path / "runs.parquet")
    assert table.column("run").to_pylist() == [0, 1, 2, 3]
    assert table.column("steps").to_pylist() == [None, None, 10, 12]
    assert table.schema.field("steps").type == pa.int64()
    assert pa.types.is_dictionary(table.schema.field("label").type)
    assert pa.types.is_string(table.schema.field("error").type)
    frame = table.to_pandas()
    assert frame["label"].dtype == "category" and frame["status"].dtype == "category"
    assert list(frame["label"].cat.categories) == ["stagnant", "expansive", "defensive"]


def test_unified_schema_promotes_nulls_and_encodes_named_text():
    a = pa.schema([("x", pa.null()), ("label", pa.string()), ("note", pa.string())])
    b = pa.schema([("x", pa.float64()), ("label", pa.string())])
    merged = unified_schema([a, b], ["label"])
    assert merged.field("x").type == pa.float64()
    assert merged.field("label").type == pa.dictionary(pa.int32(), pa.string())
    assert merged.field("note").type == pa.string()


def test_partial_folder_reads_from_parts(tmp_path):
    store = ResultStore(tmp_path)
    store.write_chunk(0, {"runs": pa.table({"run": [0, 1], "status": ["ok", "ok"]})})
    store.write_chunk(2, {"runs": pa.table({"run": [4, 5], "status": ["ok", "failed"]})})
    table = store.read_table("runs", ["status"], columns=["status"])
    assert table.column_names == ["status"] and table.num_rows == 4
    assert store.read_table("steps", []) is None


def test_a_table_pending_when_the_merge_was_killed_is_read_from_parts_and_redone(tmp_path):
    store = ResultStore(tmp_path)
    store.write_chunk(0, {"runs": pa.table({"run": [0, 1], "status": ["ok", "ok"]})})
    store.write_chunk(1, {"runs": pa.table({"run": [2, 3], "status": ["ok", "ok"]})})
    store.files["runs.parquet"] = {"pending": True}  # listed, then killed mid-write
    store.write_manifest()
    (tmp_path / "runs.parquet").write_bytes(b"half a table")
    reader = ResultStore(tmp_path)
    assert reader.check("runs.parquet") == "was being written when the sweep stopped"
    assert reader.read_table("runs", ["status"]).column("run").to_pylist() == [0, 1, 2, 3]
    assert reader.consolidate(["status"]) == {"runs": 4}
    reader.write_manifest()
    reader.remove_parts()
    assert ResultStore(tmp_path).check("runs.parquet") is None
    assert not store.parts.exists()

"""Partitioned datasets: discovery (folder, glob, hive), schema checks, chunks of a big file, output planning."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from geoenc.errors import InputError, OutputError, UsageError
from geoenc.io import write_points
from geoenc.io.dataset import (
    check_output_folder,
    check_schemas,
    chunk_file,
    discover,
    is_dataset,
    output_path,
    plan_outputs,
    read_dataset_points,
    remove_stale_temporaries,
    settings_hash,
)


def _part(path: Path, n: int = 10, seed: int = 0, **cols) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    attrs = pa.table({"id": np.arange(n), **cols}) if cols else pa.table({"id": np.arange(n)})
    write_points(path, rng.uniform(-180, 180, n), rng.uniform(-90, 90, n), attrs)
    return path


def test_a_folder_is_its_parquet_files_in_sorted_order_without_hidden_ones(tmp_path):
    for name in ("b.parquet", "a.parquet", "sub/c.pq"):
        _part(tmp_path / name)
    (tmp_path / "_metadata").write_bytes(b"x")
    (tmp_path / ".a.parquet.tmp.part").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    _part(tmp_path / "_tmp" / "d.parquet")
    ds = discover(tmp_path)
    assert [p.relpath for p in ds.partitions] == ["a.parquet", "b.parquet", os.path.join("sub", "c.pq")]
    assert is_dataset(tmp_path) and not is_dataset(tmp_path / "a.parquet") and not is_dataset("-")


def test_hive_folders_give_their_keys_and_outputs_keep_the_layout(tmp_path):
    _part(tmp_path / "in" / "year=2020" / "region=eu" / "p0.parquet")
    _part(tmp_path / "in" / "year=2021" / "region=us" / "p0.parquet")
    ds = discover(tmp_path / "in")
    assert [p.hive for p in ds.partitions] == [{"year": "2020", "region": "eu"}, {"year": "2021", "region": "us"}]
    out = output_path(tmp_path / "out", ds.partitions[1])
    assert out == tmp_path / "out" / "year=2021" / "region=us" / "p0.parquet"


def test_a_glob_matches_files_and_an_empty_one_says_so(tmp_path):
    for i in range(3):
        _part(tmp_path / f"p{i}.parquet")
    ds = discover(str(tmp_path / "p*.parquet"))
    assert [Path(p.path).name for p in ds.partitions] == ["p0.parquet", "p1.parquet", "p2.parquet"]
    with pytest.raises(InputError, match=r"no files match .*quote it"):
        discover(str(tmp_path / "q*.parquet"))
    (tmp_path / "p9.csv").write_text("lon,lat\n1,2\n")
    with pytest.raises(InputError, match=r"p9.csv.* not a Parquet file"):
        discover(str(tmp_path / "p*"))


def test_an_empty_folder_and_a_missing_path_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no Parquet files"):
        discover(tmp_path / "empty")
    with pytest.raises(InputError, match="does not exist"):
        discover(tmp_path / "missing")


def test_partitions_with_different_schemas_are_refused_naming_both(tmp_path):
    _part(tmp_path / "a.parquet")
    _part(tmp_path / "b.parquet", name=np.array(["x"] * 10))
    with pytest.raises(InputError, match=r"b.parquet' has a column 'name' that is not in .*a.parquet.*one schema"):
        check_schemas(discover(tmp_path))
    (tmp_path / "b.parquet").unlink()
    _part(tmp_path / "b.parquet", id=np.arange(10).astype(str))  # same names, another type
    with pytest.raises(InputError, match=r"b.parquet' has column 'id' as string, but as int64"):
        check_schemas(discover(tmp_path))


def test_a_corrupt_partition_is_reported_not_fatal(tmp_path):
    _part(tmp_path / "a.parquet")
    (tmp_path / "b.parquet").write_bytes(b"PAR1 this is not a parquet file")
    schema, broken = check_schemas(discover(tmp_path))
    assert schema is not None and "id" in schema.names
    assert list(broken) == [str(tmp_path / "b.parquet")]
    assert "b.parquet" in broken[str(tmp_path / "b.parquet")]
    with pytest.raises(InputError, match=r"b\.parquet"):
        read_dataset_points(tmp_path)


def test_a_big_file_is_split_into_chunks_of_whole_row_groups(tmp_path):
    table = pa.table({"lon": np.linspace(-170, 170, 1000), "lat": np.linspace(-80, 80, 1000)})
    pq.write_table(table, tmp_path / "big.parquet", row_group_size=100)
    ds = chunk_file(tmp_path / "big.parquet", chunk_rows=250)
    assert [p.row_groups for p in ds.partitions] == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert [p.first_row for p in ds.partitions] == [0, 300, 600, 900]
    assert [p.relpath for p in ds.partitions][:2] == ["part-00000.parquet", "part-00001.parquet"]
    assert ds.single_file and discover(tmp_path / "big.parquet").partitions[0].row_groups == (0, 10)
    (tmp_path / "big.csv").write_text("lon,lat\n1,2\n")
    with pytest.raises(InputError, match=r"not a Parquet file: .*leave out --engine dask"):
        discover(tmp_path / "big.csv")


def test_output_planning_skips_matching_outputs_and_refuses_foreign_ones(tmp_path):
    for i in range(3):
        _part(tmp_path / "in" / f"p{i}.parquet", seed=i)
    ds = discover(tmp_path / "in")
    out = tmp_path / "out"
    assert plan_outputs(out, ds, "s1", False) == ([0, 1, 2], [])
    out.mkdir()
    # an output that records the same source and settings is complete and matches
    marker = ds.partitions[1].marker("s1")
    write_points(output_path(out, ds.partitions[1]), np.zeros(1), np.zeros(1), metadata={"partition": marker})
    assert plan_outputs(out, ds, "s1", False) == ([0, 2], [1])
    assert plan_outputs(out, ds, "s1", True) == ([0, 1, 2], [])
    with pytest.raises(OutputError, match=r"p1.parquet' exists but was written from other settings.*--overwrite"):
        plan_outputs(out, ds, "s2", False)
    # the input partition changed since (another size/mtime)
    os.utime(ds.partitions[1].path, ns=(1, 1))
    with pytest.raises(OutputError, match="earlier version of the input partition"):
        plan_outputs(out, discover(tmp_path / "in"), "s1", False)
    _part(out / "stray.parquet")
    with pytest.raises(OutputError, match=r"stray.parquet.*not the output of any partition"):
        plan_outputs(out, ds, "s1", True)


def test_output_folder_must_not_overlap_the_input(tmp_path):
    _part(tmp_path / "in" / "p.parquet")
    ds = discover(tmp_path / "in")
    for bad in (tmp_path / "in", tmp_path / "in" / "out", tmp_path):
        with pytest.raises(OutputError, match="overlap"):
            check_output_folder(bad, ds)
    with pytest.raises(UsageError, match="give a folder name"):
        check_output_folder(tmp_path / "out.parquet", ds)
    with pytest.raises(OutputError, match="does not exist"):
        check_output_folder(tmp_path / "no" / "out", ds)
    check_output_folder(tmp_path / "out", ds)


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".p0.parquet.k2j3h4.part").write_bytes(b"x")
    (tmp_path / ".p1.parquet.abc_12.part").write_bytes(b"x")
    (tmp_path / "p0.parquet").write_bytes(b"x")
    (tmp_path / ".keep").write_bytes(b"x")
    assert remove_stale_temporaries(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [".keep", "p0.parquet"]


def test_settings_hash_is_stable_and_order_free():
    assert settings_hash({"a": 1, "b": [1, 2]}) == settings_hash({"b": [1, 2], "a": 1})
    assert settings_hash({"a": 1}) != settings_hash({"a": 2})

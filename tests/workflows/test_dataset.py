"""Datasets in, datasets out, in this process (--engine local): same numbers as the file path, resumable,
a corrupt partition named while the others are written, Ctrl-C leaves only complete partitions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pds
import pyarrow.parquet as pq
import pytest

from geoenc.errors import InputError
from geoenc.io import read_points, write_points
from geoenc.io.dataset import MARKER_KEY
from geoenc.workflows.dataset import PartitionsFailed, encode_dataset, predict_dataset
from geoenc.workflows.encode import encode_file
from geoenc.workflows.predict import predict_file


def make_dataset(folder: Path, parts: int = 4, rows: int = 300, seed: int = 0, label: bool = False) -> Path:
    """``parts`` GeoParquet partitions of random points (ids run on across partitions)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(parts):
        lon, lat = rng.uniform(-180, 180, rows), np.degrees(np.arcsin(rng.uniform(-1, 1, rows)))
        cols = {"id": np.arange(i * rows, (i + 1) * rows)}
        if label:
            cols["y"] = np.where(lon < -60, "west", np.where(lon < 60, "mid", "east"))
        write_points(folder / f"part-{i}.parquet", lon, lat, pa.table(cols))
    return folder


def embeddings(path: Path) -> np.ndarray:
    col = pq.read_table(path).column("embedding").combine_chunks()
    return col.values.to_numpy().reshape(len(col), -1)


def test_encode_dataset_writes_one_file_per_partition_with_the_file_paths_numbers(tmp_path):
    src = make_dataset(tmp_path / "in")
    res = encode_dataset(src, tmp_path / "out", "sphereM", params={"frequency_num": 8}, device="cpu")
    assert (res.partitions, res.written, res.skipped, res.rows) == (4, 4, 0, 1200)
    assert res.metadata_files == ["_common_metadata", "_metadata"]
    for i in range(4):
        one = tmp_path / f"one{i}.parquet"
        encode_file(src / f"part-{i}.parquet", one, "sphereM", {"frequency_num": 8}, device="cpu")
        out = tmp_path / "out" / f"part-{i}.parquet"
        assert np.array_equal(embeddings(out), embeddings(one))  # bit for bit
        assert pq.read_table(out).drop_columns([]).column("id").equals(pq.read_table(one).column("id"))
        meta = json.loads(pq.read_schema(out).metadata[b"geoenc"])
        assert meta[MARKER_KEY]["source"] == f"part-{i}.parquet" and meta["method"] == "sphereM"
    # the folder reads as one GeoParquet dataset (pyarrow, geopandas), its _metadata lists every row group
    assert pds.dataset(tmp_path / "out", format="parquet").count_rows() == 1200
    import geopandas

    gdf = geopandas.read_parquet(tmp_path / "out")
    assert len(gdf) == 1200 and gdf.crs.equals("OGC:CRS84") and sorted(gdf["id"]) == list(range(1200))
    md = pq.read_metadata(tmp_path / "out" / "_metadata")
    assert md.num_rows == 1200 and md.num_row_groups == 4
    common = json.loads(pq.read_schema(tmp_path / "out" / "_common_metadata").metadata[b"geoenc"])
    assert MARKER_KEY not in common and common["dataset"] == {"partitions": 4, "rows": 1200}


def test_an_encoder_fitted_on_data_is_fitted_once_on_the_whole_dataset(tmp_path):
    src = make_dataset(tmp_path / "in", parts=3, rows=200)
    encode_dataset(src, tmp_path / "out", "rbf", params={"num_anchors": 16}, device="cpu", seed=3)
    whole = tmp_path / "whole.parquet"
    pts = [read_points(src / f"part-{i}.parquet") for i in range(3)]
    write_points(whole, np.concatenate([p.lon for p in pts]), np.concatenate([p.lat for p in pts]))
    encode_file(whole, tmp_path / "ref.parquet", "rbf", {"num_anchors": 16}, device="cpu", seed=3)
    got = np.concatenate([embeddings(tmp_path / "out" / f"part-{i}.parquet") for i in range(3)])
    assert np.array_equal(got, embeddings(tmp_path / "ref.parquet"))


def test_a_rerun_does_only_the_missing_partitions(tmp_path):
    src = make_dataset(tmp_path / "in")
    out = tmp_path / "out"
    encode_dataset(src, out, "xyz", device="cpu")
    before = (out / "part-1.parquet").read_bytes()
    (out / "part-2.parquet").unlink()
    res = encode_dataset(src, out, "xyz", device="cpu")
    assert (res.written, res.skipped, res.rows) == (1, 3, 300)
    assert (out / "part-1.parquet").read_bytes() == before
    assert (out / "_metadata").exists()
    res = encode_dataset(src, out, "xyz", device="cpu", overwrite=True)
    assert (res.written, res.skipped) == (4, 0)


def test_an_interrupt_leaves_only_complete_partitions_and_the_rerun_finishes(tmp_path):
    src = make_dataset(tmp_path / "in", parts=5)
    out = tmp_path / "out"

    def stop(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        encode_dataset(src, out, "xyz", device="cpu", progress=stop)
    assert sorted(p.name for p in out.iterdir()) == ["part-0.parquet", "part-1.parquet"]  # no temporaries
    seen = []
    res = encode_dataset(src, out, "xyz", device="cpu", progress=lambda d, t: seen.append((d, t)))
    assert (res.written, res.skipped) == (3, 2) and seen[-1] == (3, 3)
    encode_dataset(src, tmp_path / "ref", "xyz", device="cpu")
    for i in range(5):
        assert (out / f"part-{i}.parquet").read_bytes() == (tmp_path / "ref" / f"part-{i}.parquet").read_bytes()


def test_a_corrupt_partition_is_named_and_the_others_are_written(tmp_path):
    src = make_dataset(tmp_path / "in")
    (src / "part-2.parquet").write_bytes((src / "part-2.parquet").read_bytes()[:-200])  # truncated footer
    data = (src / "part-3.parquet").read_bytes()
    (src / "part-3.parquet").write_bytes(data[:8] + b"\0" * 200 + data[208:])  # corrupt pages, footer intact
    with pytest.raises(PartitionsFailed, match=r"2 of 4 partitions failed \(.*part-2.parquet.*\); the other 2") as e:
        encode_dataset(src, tmp_path / "out", "xyz", device="cpu")
    assert e.value.exit_code == 1
    assert sorted(p for p, _ in e.value.result.failed) == [str(src / "part-2.parquet"), str(src / "part-3.parquet")]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["part-0.parquet", "part-1.parquet"]


def test_partitions_with_different_schemas_are_refused_before_any_work(tmp_path):
    src = make_dataset(tmp_path / "in", parts=2)
    write_points(src / "part-9.parquet", np.zeros(2), np.zeros(2), pa.table({"other": [1, 2]}))
    with pytest.raises(InputError, match=r"part-9.parquet' has no column 'id'"):
        encode_dataset(src, tmp_path / "out", "xyz", device="cpu")
    assert not (tmp_path / "out").exists()


def test_a_hive_tree_is_mirrored(tmp_path):
    for key in ("a", "b"):
        make_dataset(tmp_path / "in" / f"region={key}", parts=2, rows=50)
    encode_dataset(tmp_path / "in", tmp_path / "out", "xyz", device="cpu")
    files = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.parquet"))
    assert files == [f"region={k}/part-{i}.parquet" for k in "ab" for i in range(2)]
    table = pds.dataset(tmp_path / "out", format="parquet", partitioning="hive").to_table()
    assert sorted(set(table.column("region").to_pylist())) == ["a", "b"] and table.num_rows == 200


def test_one_big_file_runs_as_chunks_of_row_groups(tmp_path, monkeypatch):
    import geoenc.io.dataset as D

    src = make_dataset(tmp_path / "in", parts=1, rows=1000)
    big = tmp_path / "big.parquet"
    pq.write_table(pq.read_table(src / "part-0.parquet"), big, row_group_size=128)
    monkeypatch.setattr(D, "CHUNK_ROWS", 300)
    res = encode_dataset(big, tmp_path / "out", "sphereC", device="cpu", batch_size=100)
    assert res.written == 3 and res.rows == 1000  # row groups of 128: 384 + 384 + 232 rows
    encode_file(big, tmp_path / "ref.parquet", "sphereC", device="cpu")
    got = np.concatenate([embeddings(tmp_path / "out" / f"part-{i:05d}.parquet") for i in range(3)])
    assert np.array_equal(got, embeddings(tmp_path / "ref.parquet"))


def test_predict_dataset_matches_predict_file_and_merges_the_metrics(tmp_path, class_model):
    src = make_dataset(tmp_path / "in", parts=3, rows=200, label=True)
    res = predict_dataset(class_model, src, tmp_path / "out", label="y", device="cpu")
    assert res.written == 3 and res.rows == 600
    pts = [read_points(src / f"part-{i}.parquet") for i in range(3)]
    whole = tmp_path / "whole.parquet"
    write_points(
        whole,
        np.concatenate([p.lon for p in pts]),
        np.concatenate([p.lat for p in pts]),
        pa.concat_tables([p.attrs for p in pts]),
    )
    ref = predict_file(class_model, whole, tmp_path / "ref.parquet", label="y", device="cpu")
    for key in ("top1", "top3", "mrr"):
        assert res.metrics[key] == pytest.approx(ref.metrics[key], abs=1e-6)
    assert res.metrics["n"] == ref.metrics["n"] == 600
    got = pa.concat_tables([pq.read_table(tmp_path / "out" / f"part-{i}.parquet") for i in range(3)])
    want = pq.read_table(tmp_path / "ref.parquet")
    for col in ("pred_1", "hit@1"):
        assert got.column(col).equals(want.column(col))
    # probabilities: equal to float32 rounding (a net's output may change in the last bit with the batch size)
    np.testing.assert_allclose(got.column("prob_1").to_numpy(), want.column("prob_1").to_numpy(), rtol=1e-6)
    common = json.loads(pq.read_schema(tmp_path / "out" / "_common_metadata").metadata[b"geoenc"])
    assert common["metrics"]["top1"] == res.metrics["top1"]
    # partitions done in an earlier run still count in the dataset's metrics
    (tmp_path / "out" / "part-1.parquet").unlink()
    again = predict_dataset(class_model, src, tmp_path / "out", label="y", device="cpu")
    assert again.written == 1 and again.metrics == res.metrics


def test_regression_metrics_merge_to_the_single_pass_values(tmp_path, reg_model):
    rng = np.random.default_rng(5)
    src = tmp_path / "in"
    src.mkdir()
    lons, lats, ys = [], [], []
    for i in range(3):
        lon, lat = rng.uniform(-180, 180, 150), rng.uniform(-80, 80, 150)
        y = (lat + 90) / 10 + rng.normal(0, 1, 150)
        write_points(src / f"p{i}.parquet", lon, lat, pa.table({"y": y}))
        lons.append(lon), lats.append(lat), ys.append(y)
    res = predict_dataset(reg_model, src, tmp_path / "out", device="cpu")
    whole = pa.table({"y": np.concatenate(ys)})
    write_points(tmp_path / "w.parquet", np.concatenate(lons), np.concatenate(lats), whole)
    ref = predict_file(reg_model, tmp_path / "w.parquet", tmp_path / "ref.parquet", device="cpu")
    # a net's float32 output for a row may change in the last bit with the batch it is computed in (BLAS
    # kernels depend on the batch's size), so partitions vs the whole file agree to float32 rounding only
    for key in ("r2", "mae", "rmse"):
        assert res.metrics[key] == pytest.approx(ref.metrics[key], rel=1e-6)

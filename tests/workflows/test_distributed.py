"""--engine dask on a LocalCluster of 2 worker processes on the loopback address (started and stopped here).

Encode, predict, geo-bias and map give the single-process results (bit for bit); a worker killed mid-run and
Ctrl-C still end in a complete dataset; a task that keeps failing, a corrupt partition and a scheduler that
does not answer each end in one line and exit 1.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import time
from pathlib import Path

import distributed  # the dask extra, installed with dev
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import rasterio

from geoenc.errors import ClusterError, UsageError
from geoenc.io import write_points
from geoenc.metrics.outcome import choose_outcome
from geoenc.metrics.report import compute_geobias
from geoenc.workflows.dataset import encode_dataset, predict_dataset
from geoenc.workflows.distributed import DaskMapper, TaskFailure
from tests.workflows.test_dataset import make_dataset


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    c = distributed.Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _wait_idle(client, timeout: float = 60.0) -> None:
    """Until no task of ours is known to the scheduler or still running in a worker thread (cancelled ones too)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        on_scheduler = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
        running = client.run(lambda dask_worker: len(dask_worker.active_threads))
        if on_scheduler == 0 and not any(running.values()):
            return
        time.sleep(0.2)
    raise AssertionError("the cluster did not go idle")


def test_encode_and_predict_on_dask_write_the_same_bytes_as_one_process(tmp_path, client, class_model):
    src = make_dataset(tmp_path / "in", parts=4, rows=400, label=True)
    mapper = DaskMapper(client)
    here = encode_dataset(src, tmp_path / "enc1", "sphereM", params={"frequency_num": 8}, device="cpu")
    there = encode_dataset(src, tmp_path / "enc2", "sphereM", params={"frequency_num": 8}, device="cpu", mapper=mapper)
    assert (here.rows, there.rows, there.written) == (1600, 1600, 4)
    assert _files(tmp_path / "enc1") == _files(tmp_path / "enc2")  # every partition and _metadata, byte for byte
    one = predict_dataset(class_model, src, tmp_path / "pred1", label="y", device="cpu")
    two = predict_dataset(class_model, src, tmp_path / "pred2", label="y", device="cpu", mapper=mapper)
    assert one.metrics == two.metrics and two.metrics["n"] == 1600
    assert _files(tmp_path / "pred1") == _files(tmp_path / "pred2")


def _geobias_points(n: int = 2500, seed: int = 1):
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    p_bad = 0.15 + 0.6 * (lat > 30)  # errors clustered in the north
    hit = (rng.uniform(size=n) > p_bad).astype(np.int64)
    return lon, lat, pa.table({"hit@1": hit, "abs_error": rng.gamma(2.0, 50.0, n) * (1 + (lat > 30))})


@pytest.mark.parametrize(
    ("band_km", "centres", "relative", "mode"), [(None, "all", 2, "exact"), (800.0, "low", 0, "pygbs")]
)
def test_geobias_on_dask_gives_the_single_process_numbers(client, monkeypatch, band_km, centres, relative, mode):
    import geoenc.metrics.hotspots as H
    import geoenc.metrics.ssi as S

    monkeypatch.setattr(S, "BATCHES_PER_TASK", 3)  # several SSI tasks and graph partitions on this small set
    monkeypatch.setattr(H, "ROWS_PER_TASK", 700)
    lon, lat, attrs = _geobias_points(1500)
    outcome = choose_outcome(attrs)
    kw = {"radius_km": 1500.0, "k": 150, "band_km": band_km, "fdr": True, "centres": centres, "relative": relative}
    kw["ssi_mode"] = mode
    one = compute_geobias(lon, lat, outcome, **kw)
    two = compute_geobias(lon, lat, outcome, mapper=DaskMapper(client), **kw)
    # SSI and the k-NN graph come out bit for bit; the distance band to rounding (the acceptance is 1e-9)
    for a, b in ((one.ssi.unmarked, two.ssi.unmarked), (one.ssi.marked, two.ssi.marked)):
        assert np.isfinite(a[one.ssi.centre]).all() and one.ssi.centre.sum() > 300
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one.ssi.n_neighbours, two.ssi.n_neighbours)
    if relative:  # the permutations' scores at the same centres, bit for bit too
        for a, b in ((one.ssi.unmarked_random, two.ssi.unmarked_random), (one.ssi.marked_perm, two.ssi.marked_perm)):
            assert a is not None and b is not None
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(two.hot.z, one.hot.z, rtol=0, atol=1e-9)
    np.testing.assert_allclose(two.hot.p, one.hot.p, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(one.hot.bin, two.hot.bin)
    if band_km is None:
        np.testing.assert_array_equal(one.hot.z, two.hot.z)
    assert one.moran == two.moran
    assert json.dumps(one.summary(), sort_keys=True) == json.dumps(two.summary(), sort_keys=True)  # NaN == NaN


def test_geobias_cli_on_a_dataset_with_a_scheduler_address(tmp_path, client, cli):
    lon, lat, attrs = _geobias_points(1200, seed=2)
    src = tmp_path / "preds"
    src.mkdir()
    for i in range(3):
        sl = slice(i * 400, (i + 1) * 400)
        write_points(src / f"p{i}.parquet", lon[sl], lat[sl], attrs.slice(i * 400, 400))
    args = ["geobias", str(src), "--radius-km", "1500", "--k", "100", "--json", "-q"]
    here = cli(*args, "-o", str(tmp_path / "r1.parquet"))
    there = cli(*args, "-o", str(tmp_path / "r2.parquet"), "--scheduler", client.scheduler.address)
    assert here.exit_code == 0 and there.exit_code == 0, there.stderr
    assert here.stdout.replace("r1.parquet", "") == there.stdout.replace("r2.parquet", "")
    t1, t2 = pq.read_table(tmp_path / "r1.parquet"), pq.read_table(tmp_path / "r2.parquet")
    for col in ("ssi_unmarked", "ssi_marked", "gi_z", "gi_p", "gi_bin"):
        np.testing.assert_array_equal(t1.column(col).to_numpy(), t2.column(col).to_numpy())  # NaN == NaN here


def test_map_on_dask_writes_the_single_process_raster(tmp_path, client, monkeypatch, class_model):
    import geoenc.workflows.map as M

    monkeypatch.setattr(M, "BLOCK_BYTES", 4 * 72 * 7)  # 7 rows per block: 11 row blocks for this grid
    mapper = DaskMapper(client)
    for name, run in (
        ("enc", lambda dest, m: M.map_encoder("sphereM", None, 5, dest, cell_deg=5, device="cpu", mapper=m)),
        ("cls", lambda dest, m: M.map_model(class_model, dest, cell_deg=5, all_classes=True, device="cpu", mapper=m)),
    ):
        one, two = tmp_path / f"{name}1.tif", tmp_path / f"{name}2.tif"
        run(one, None)
        run(two, mapper)
        with rasterio.open(one) as a, rasterio.open(two) as b:
            assert a.height == 36 and a.profile == b.profile
            np.testing.assert_array_equal(a.read(), b.read())
        assert one.read_bytes() == two.read_bytes()


@pytest.mark.slow
def test_a_worker_killed_mid_run_still_ends_with_the_complete_dataset(tmp_path, client):
    src = make_dataset(tmp_path / "in", parts=8, rows=20_000)
    ref = encode_dataset(src, tmp_path / "ref", "sphereM", params={"frequency_num": 8}, device="cpu")
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed = []

    def kill_one(done, total):
        if done == 1 and not killed:
            os.kill(victim, signal.SIGKILL)  # the worker process dies with whatever it was running
            killed.append(total - done)

    mapper = DaskMapper(client)
    res = encode_dataset(
        src, tmp_path / "out", "sphereM", params={"frequency_num": 8}, device="cpu", mapper=mapper, progress=kill_one
    )
    assert killed == [7]  # killed while 7 partitions were still to come
    assert (res.written, res.rows) == (8, ref.rows)
    assert _files(tmp_path / "out") == _files(tmp_path / "ref")  # complete and correct, no temporaries left
    client.wait_for_workers(2, timeout=120)  # the nanny restarted the worker
    assert victim not in client.run(os.getpid).values()


@pytest.mark.slow
def test_ctrl_c_cancels_the_tasks_and_the_rerun_does_only_the_missing_ones(tmp_path, client):
    src = make_dataset(tmp_path / "in", parts=10, rows=2000)
    out = tmp_path / "out"
    mapper = DaskMapper(client)

    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        encode_dataset(src, out, "sphereC", device="cpu", mapper=mapper, progress=interrupt)
    _wait_idle(client)  # tasks running when cancelled finish their partition; the rest never start
    present = sorted(p.name for p in out.iterdir())
    assert all(name.startswith("part-") and name.endswith(".parquet") for name in present), present
    assert 2 <= len(present) < 10
    res = encode_dataset(src, out, "sphereC", device="cpu", mapper=mapper)
    assert (res.written, res.skipped) == (10 - len(present), len(present))
    encode_dataset(src, tmp_path / "ref", "sphereC", device="cpu")
    assert _files(out) == _files(tmp_path / "ref")


def _boom(shared, item):
    raise RuntimeError(f"boom {item}")


def _flaky(marker_dir, item):
    marker = Path(marker_dir) / f"tried-{item}"
    if not marker.exists():
        marker.write_text("1")
        raise OSError("lost the disk for a moment")
    return item * 10


def test_a_failing_task_is_retried_and_reported_in_one_line_when_it_keeps_failing(tmp_path, client):
    mapper = DaskMapper(client, retries=1)
    assert sorted(mapper(_flaky, str(tmp_path), [1, 2, 3], name="flaky")) == [(0, 10), (1, 20), (2, 30)]
    with pytest.raises(ClusterError, match=r"^task 1 of 1 \(boom\) failed after 2 attempts: RuntimeError: boom 7$"):
        list(mapper(_boom, None, [7], name="boom"))
    got = list(mapper(_boom, None, [1, 2], keep_going=True, name="boom"))
    assert sorted(i for i, _ in got) == [0, 1] and all(isinstance(v, TaskFailure) for _, v in got)


def test_cli_encode_on_the_cluster_names_a_corrupt_partition_and_writes_the_others(tmp_path, client, cli):
    src = make_dataset(tmp_path / "in", parts=4, rows=100)
    data = (src / "part-1.parquet").read_bytes()
    (src / "part-1.parquet").write_bytes(data[:8] + b"\0" * 300 + data[308:])
    res = cli("encode", src, "-o", tmp_path / "out", "-m", "xyz", "--scheduler", client.scheduler.address, "-q")
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "1 of 4 partitions failed" in lines[0] and "part-1.parquet" in lines[0], lines
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"part-{i}.parquet" for i in (0, 2, 3)]
    (src / "part-1.parquet").write_bytes(data)  # fixed: the rerun does that one only
    res = cli("encode", src, "-o", tmp_path / "out", "-m", "xyz", "--scheduler", client.scheduler.address)
    assert res.exit_code == 0, res.stderr
    assert "1 of 4 partitions (3 already complete)" in res.stderr


def test_a_scheduler_that_does_not_answer_is_one_line_and_exit_1(tmp_path, cli, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = make_dataset(tmp_path / "in", parts=2, rows=10)
    monkeypatch.setenv("GEOENC_DASK_TIMEOUT", "1")
    res = cli("encode", src, "-o", tmp_path / "out", "--engine", "dask", "--scheduler", f"127.0.0.1:{port}")
    assert res.exit_code == 1
    assert res.stderr.strip().splitlines() == [
        f"geoenc: error: no Dask scheduler answered at tcp://127.0.0.1:{port} within 1 s (OSError): start one "
        "(`dask scheduler`), check the address, or use --scheduler local"
    ]
    assert not (tmp_path / "out").exists()


def test_encode_of_a_dask_geodataframe_is_lazy_with_the_right_meta(client):
    import dask_geopandas
    import geopandas

    import geoenc

    lon, lat, _ = _geobias_points(3000, seed=4)
    gdf = geopandas.GeoDataFrame({"id": np.arange(3000)}, geometry=geopandas.points_from_xy(lon, lat), crs=4326)
    ddf = dask_geopandas.from_geopandas(gdf, npartitions=4)
    ref = geoenc.encode(np.column_stack((lon, lat)), "sphereM", device="cpu")
    for layout in ("columns", "list"):
        lazy = geoenc.encode(ddf, "sphereM", device="cpu", layout=layout)
        assert isinstance(lazy, dask_geopandas.GeoDataFrame)
        got = client.compute(lazy).result()
        assert list(got.dtypes) == list(lazy.dtypes)  # meta matches what the tasks return
        if layout == "columns":
            values = got[[f"emb_{j}" for j in range(ref.shape[1])]].to_numpy()
        else:
            values = np.stack(got["embedding"].to_numpy())
        np.testing.assert_array_equal(values, ref)
    projected = dask_geopandas.from_geopandas(gdf.to_crs(3857), npartitions=2)
    got = client.compute(geoenc.encode(projected, "xyz", device="cpu")).result()
    want = geoenc.encode(np.column_stack((lon, lat)), "xyz", device="cpu")
    np.testing.assert_allclose(got[["emb_0", "emb_1", "emb_2"]].to_numpy(), want, atol=1e-6)
    named = client.compute(geoenc.encode(ddf, "xyz", device="cpu", column="pos")).result()
    assert list(named.columns) == ["id", "geometry", "pos_0", "pos_1", "pos_2"]
    np.testing.assert_array_equal(named[["pos_0", "pos_1", "pos_2"]].to_numpy(), want)
    with pytest.raises(UsageError, match="dask frame is read from its geometry"):
        geoenc.encode(ddf, "xyz", lon="x")


def test_cli_on_the_cluster_refuses_an_empty_glob_and_mixed_schemas_in_one_line(tmp_path, client, cli):
    where = ["--scheduler", client.scheduler.address, "-q"]
    res = cli("encode", str(tmp_path / "nothing-*.parquet"), "-o", tmp_path / "out", *where)
    assert res.exit_code == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "no files match" in res.stderr and not (tmp_path / "out").exists()
    src = make_dataset(tmp_path / "in", parts=3, rows=20)
    lon, lat = np.zeros(5), np.zeros(5)
    write_points(src / "part-9.parquet", lon, lat, pa.table({"id": np.array(["a"] * 5)}))  # id as text
    for args in (["encode", src, "-o", tmp_path / "out"], ["geobias", src, "-o", tmp_path / "r.parquet"]):
        res = cli(*args, *where)
        assert res.exit_code == 1, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "part-9.parquet" in lines[0] and "'id'" in lines[0], lines
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.parquet").exists()

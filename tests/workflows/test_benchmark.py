"""The benchmark runner: rows for encoders and baselines, resumability, outputs, bad requests."""

from __future__ import annotations

import csv
import json

import numpy as np
import pyarrow as pa
import pytest

from geoenc.benchmark.baselines import fit_predict
from geoenc.benchmark.report import markdown_table
from geoenc.errors import UsageError
from geoenc.io import write_points
from geoenc.workflows.benchmark import BenchmarkConfig, resolve_baselines, resolve_methods, run_benchmark


def _write(path, n, seed, regression=False):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    y = lat / 10 + rng.normal(0, 0.1, n) if regression else np.where(lat > 20, "north", "south")
    write_points(path, lon, lat, pa.table({"y": y}))
    return path


@pytest.fixture
def data(tmp_path):
    return _write(tmp_path / "train.parquet", 400, 0), _write(tmp_path / "test.parquet", 300, 1)


def test_runs_every_method_and_baseline_and_resumes(tmp_path, data):
    out = tmp_path / "res"
    cfg = BenchmarkConfig(label="y", methods=["xyz", "wrap"], seeds=2, epochs=1, net="linear", device="cpu")
    calls = []
    records = run_benchmark(*map(str, data), out, cfg, progress=lambda what, d, t: calls.append(what))
    assert {(r["method"], r["seed"]) for r in records} == {
        (m, s) for m in ("xyz", "wrap", "knn", "random_forest", "no_location") for s in (0, 1)
    }
    for r in records:
        assert 0 <= r["top1"] <= 1 and r["task"] == "classification"
    prior = next(r for r in records if r["method"] == "no_location")
    knn = next(r for r in records if r["method"] == "knn")
    assert knn["top1"] > prior["top1"] + 0.3  # hemisphere is easy from location, impossible without
    assert knn["n_low"] > 0 and np.isfinite(knn["marked_ssi"])  # kNN misses near the boundary: SSI is scored
    # a rerun finds every run file and trains nothing
    calls.clear()
    again = run_benchmark(*map(str, data), out, cfg, progress=lambda what, d, t: calls.append(what))
    assert calls == ["done"]
    assert [r["top1"] for r in again] == [r["top1"] for r in records]
    table = markdown_table(records)
    assert table.count("\n| ") == 5 and "± " in table


def test_regression_benchmark(tmp_path):
    train = _write(tmp_path / "a.parquet", 300, 0, regression=True)
    test = _write(tmp_path / "b.parquet", 200, 1, regression=True)
    cfg = BenchmarkConfig(label="y", methods=["xyz"], epochs=1, net="linear", device="cpu")
    records = run_benchmark(str(train), str(test), tmp_path / "r", cfg)
    by = {r["method"]: r for r in records}
    assert by["knn"]["r2"] > 0.9 > by["no_location"]["r2"]
    assert by["xyz"]["threshold"] > 0


def test_cli_writes_results(cli, tmp_path, data):
    out = tmp_path / "res"
    res = cli(
        "benchmark",
        data[0],
        data[1],
        "--label",
        "y",
        "--methods",
        "xyz",
        "--epochs",
        "1",
        "--net",
        "linear",
        "--baselines",
        "knn",
        "--device",
        "cpu",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["method"] for r in rows] == ["xyz", "knn"]
    assert "| xyz |" in (out / "results.md").read_text()
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "runs" / "xyz__seed0.json").read_text())["method"] == "xyz"


def test_baselines_align_classes():
    ll = np.array([[0.0, 10.0], [1.0, 11.0], [100.0, -5.0]])
    probs, info = fit_predict("knn", "classification", ll, np.array([0, 0, 2]), ll, 3, 0)
    assert probs.shape == (3, 3) and np.allclose(probs[:, 1], 0)
    assert info["k"] >= 1


@pytest.mark.parametrize(
    "args,code,phrase",
    [
        (["--methods", "sphereX"], 2, "did you mean"),
        (["--baselines", "svm"], 2, "unknown baseline"),
        (["--label", "nope"], 1, "label column"),
    ],
)
def test_bad_requests(cli, tmp_path, data, args, code, phrase):
    base = {"--label": "y", "--methods": "xyz"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    flat = [x for kv in base.items() for x in kv]
    res = cli("benchmark", data[0], data[1], *flat, "--epochs", "1", "-o", tmp_path / "r")
    assert res.exit_code == code, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and phrase in res.stderr


def test_resolvers():
    from geoenc.encoders import encoder_names

    assert resolve_methods("all") == encoder_names()
    assert resolve_methods("SPHEREM, xyz") == ["sphereM", "xyz"]
    assert resolve_baselines("none") == []
    with pytest.raises(UsageError):
        resolve_methods(" , ")

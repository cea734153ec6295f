"""`geoenc predict`: per-point output file read back, prior fusion, and refusals."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from geoenc.io import write_points
from tests.training.helpers import point_table

FAST = ["-m", "xyz", "-n", "hidden=16", "-n", "out=8", "--epochs", "2", "--batch-size", "64"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from typer.testing import CliRunner

    from geoenc.cli.main import app

    d = tmp_path_factory.mktemp("pred")
    lon, lat, attrs = point_table(200, with_prior=True)
    data = d / "data.parquet"
    write_points(data, lon, lat, attrs)
    write_points(d / "flat.parquet", lon, lat, attrs.drop_columns(["prior"]))  # CSV cannot hold list columns
    runner = CliRunner()
    for label in ("region", "value"):
        res = runner.invoke(app, ["train", str(data), "--label", label, *FAST, "-o", str(d / label)])
        assert res.exit_code == 0, res.output
    return d, data


def test_predict_classification_columns(cli, files, tmp_path):
    d, data = files
    out = tmp_path / "p.parquet"
    res = cli("predict", d / "region", data, "-o", out, "--top-k", "2")
    assert res.exit_code == 0, res.output
    t = pq.read_table(out)
    names = t.column_names
    for c in (
        "region",
        "value",
        "name",
        "lon",
        "lat",
        "pred_1",
        "prob_1",
        "pred_2",
        "prob_2",
        "hit@1",
        "hit@3",
        "reciprocal_rank",
        "true_class_prob",
        "geometry",
    ):
        assert c in names, c
    assert "pred_3" not in names and t.num_rows == 200
    meta = json.loads(t.schema.metadata[b"geoenc"])
    assert meta["method"] == "xyz" and meta["task"] == "classification" and len(meta["model_hash"]) == 64
    hit1 = np.asarray(t.column("hit@1"))
    assert meta["metrics"]["top1"] == pytest.approx(hit1.mean())


def test_predict_regression_and_csv(cli, files, tmp_path):
    d, _data = files
    out = tmp_path / "p.csv"
    res = cli("predict", d / "value", d / "flat.parquet", "-o", out)
    assert res.exit_code == 0, res.output
    header = out.read_text().splitlines()[0].replace('"', "").split(",")
    assert {"prediction", "error", "abs_error"} <= set(header)


def test_predict_without_labels(cli, files, tmp_path):
    d, _ = files
    src = tmp_path / "x.csv"
    src.write_text("lon,lat\n10,20\n-50,-30\n")
    out = tmp_path / "p.parquet"
    res = cli("predict", d / "region", src, "-o", out)
    assert res.exit_code == 0, res.output
    t = pq.read_table(out)
    assert "hit@1" not in t.column_names and t.column("pred_1").to_pylist()[0] in {"NE", "NW", "SE", "SW"}


def test_predict_with_prior_reports_three_metrics(cli, files, tmp_path):
    d, data = files
    out = tmp_path / "p.parquet"
    res = cli("predict", d / "region", data, "-o", out, "--prior", "prior")
    assert res.exit_code == 0, res.output
    meta = json.loads(pq.read_schema(out).metadata[b"geoenc"])
    assert set(meta["metrics"]) == {"location", "prior", "fused"}
    # a uniform prior changes nothing
    assert meta["metrics"]["fused"]["top1"] == pytest.approx(meta["metrics"]["location"]["top1"])


def test_predict_to_stdout_csv(cli, files):
    d, _ = files
    res = cli("predict", d / "value", d / "flat.parquet", "-o", "-", "--output-format", "csv")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0].replace('"', "") == "region,value,name,lon,lat,prediction,error,abs_error"


@pytest.mark.parametrize(
    "case, code, text",
    [
        ("missing_model", 1, "not a directory"),
        ("newer_format", 1, "newer"),
        ("tampered", 1, "checksum"),
        ("bad_prior", 1, "prior column 'nope' not found"),
        ("exists", 1, "--overwrite"),
        ("bad_top_k", 2, "--top-k"),
    ],
)
def test_bad_predict_calls(cli, files, tmp_path, case, code, text):
    import shutil

    d, data = files
    model = tmp_path / "m"
    shutil.copytree(d / "region", model)
    out = tmp_path / "p.parquet"
    args = ["predict", model, data, "-o", out]
    if case == "missing_model":
        args[1] = tmp_path / "nothing"
    elif case == "newer_format":
        cfg = json.loads((model / "config.json").read_text())
        cfg["format_version"] = 99
        (model / "config.json").write_text(json.dumps(cfg))
    elif case == "tampered":
        raw = bytearray((model / "model.safetensors").read_bytes())
        raw[-1] ^= 1
        (model / "model.safetensors").write_bytes(bytes(raw))
    elif case == "bad_prior":
        args += ["--prior", "nope"]
    elif case == "exists":
        out.write_text("keep me")
    elif case == "bad_top_k":
        args += ["--top-k", "0"]
    res = cli(*args)
    assert res.exit_code == code, res.output
    assert text in " ".join(res.stderr.split()) and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    if case == "exists":
        assert out.read_text() == "keep me"
    else:
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "m"] == ([] if case != "exists" else ["p.parquet"])


def test_predict_empty_folder(cli, tmp_path, files):
    _, data = files
    (tmp_path / "empty").mkdir()
    res = cli("predict", tmp_path / "empty", data, "-o", tmp_path / "p.parquet")
    assert res.exit_code == 1 and "no config.json" in res.stderr

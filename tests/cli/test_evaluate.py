"""`geoenc evaluate`: a table or JSON of metrics on stdout, and refusals."""

from __future__ import annotations

import json

import pytest

from geoenc.io import write_points
from tests.training.helpers import point_table

FAST = ["-m", "xyz", "-n", "hidden=16", "-n", "out=8", "--epochs", "2", "--batch-size", "64"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from typer.testing import CliRunner

    from geoenc.cli.main import app

    d = tmp_path_factory.mktemp("eval")
    lon, lat, attrs = point_table(200, with_prior=True)
    data = d / "data.parquet"
    write_points(data, lon, lat, attrs)
    for label in ("region", "value"):
        res = CliRunner().invoke(app, ["train", str(data), "--label", label, *FAST, "-o", str(d / label)])
        assert res.exit_code == 0, res.output
    return d, data


def test_evaluate_json_matches_predict(cli, files, tmp_path):
    d, data = files
    res = cli("evaluate", d / "region", data, "--json")
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout)
    assert set(m) == {"top1", "top3", "mrr", "log_loss", "n"} and m["n"] == 200
    cli("predict", d / "region", data, "-o", tmp_path / "p.parquet")
    import pyarrow.parquet as pq

    meta = json.loads(pq.read_schema(tmp_path / "p.parquet").metadata[b"geoenc"])
    assert meta["metrics"] == pytest.approx(m)


def test_evaluate_table(cli, files):
    d, data = files
    res = cli("evaluate", d / "value", data)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["metric", "value"]
    assert [ln.split()[0] for ln in lines[1:]] == ["r2", "mae", "rmse", "n"]


def test_evaluate_with_prior(cli, files):
    d, data = files
    res = cli("evaluate", d / "region", data, "--prior", "prior")
    assert res.exit_code == 0, res.output
    keys = [ln.split()[0] for ln in res.stdout.splitlines()[1:]]
    assert "location.top1" in keys and "prior.mrr" in keys and "fused.top3" in keys


@pytest.mark.parametrize(
    "extra, code, text",
    [
        (["--label", "nope"], 1, "label column 'nope' is not in the input"),
        (["--prior", "value"], 1, "list of numbers"),
    ],
)
def test_bad_evaluate_calls(cli, files, extra, code, text):
    d, data = files
    res = cli("evaluate", d / "region", data, *extra)
    assert res.exit_code == code, res.output
    assert text in " ".join(res.stderr.split()) and res.stdout == ""


def test_evaluate_needs_labels(cli, files, tmp_path):
    d, _ = files
    src = tmp_path / "x.csv"
    src.write_text("lon,lat\n10,20\n")
    res = cli("evaluate", d / "region", src)
    assert res.exit_code == 1 and "label column 'region' is not in the input" in res.stderr

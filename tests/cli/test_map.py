"""`geoenc map` from the command line: outputs, and bad requests (one line, exit 2, no file)."""

from __future__ import annotations

import pytest


def test_map_cli_writes_tif_and_png(cli, tmp_path, class_model):
    res = cli(
        "map", class_model, "-o", tmp_path / "m.tif", "--cell-deg", "10", "--png", tmp_path / "m.png", "--device", "cpu"
    )
    assert res.exit_code == 0, res.stderr
    assert (tmp_path / "m.tif").exists() and (tmp_path / "m.png").exists()


@pytest.mark.parametrize(
    "args,phrase",
    [
        (["--class", "nowhere"], "unknown class"),
        (["--bbox", "10,0,5,20"], "west"),
        (["--bbox", "0,0,190,10"], "out of range"),
        (["--cell-deg", "0.00001"], "cells"),
        (["--class", "east", "--top-k", "2"], "only one"),
        (["--top-k", "9"], "--top-k"),
    ],
)
def test_map_bad_requests(cli, tmp_path, class_model, args, phrase):
    out = tmp_path / "o"
    out.mkdir()
    res = cli("map", class_model, "-o", out / "m.tif", *args)
    assert res.exit_code == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and phrase in res.stderr
    assert list(out.iterdir()) == []


def test_map_needs_model_or_method(cli, tmp_path, reg_model):
    assert cli("map", "-o", tmp_path / "x.tif").exit_code == 2
    res = cli("map", reg_model, "-o", tmp_path / "x.tif", "--class", "a")
    assert res.exit_code == 2 and "regression" in res.stderr
    res = cli("map", "--method", "xyz", "--dim", "7", "-o", tmp_path / "x.tif")
    assert res.exit_code == 2 and "--dim" in res.stderr

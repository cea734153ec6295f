"""`geoenc pretrain` as a user runs it, `geoenc encode --model PRETRAINED_DIR`, and refused inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from geoenc.io import write_points
from geoenc.models import load_model
from tests.pretrain.helpers import toy_table

FAST = [
    "-m",
    "xyz",
    "-n",
    "hidden=16",
    "-n",
    "out=8",
    "--projection-hidden",
    "16",
    "--epochs",
    "2",
    "--batch-size",
    "32",
    "--seed",
    "1",
    "--device",
    "cpu",
]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    lon, lat, attrs = toy_table(96)
    path = tmp_path / "points.parquet"
    write_points(path, lon, lat, attrs)
    return path


def test_pretrain_then_encode_with_the_pretrained_model(cli, data_file, tmp_path):
    out = tmp_path / "pre"
    res = cli("pretrain", data_file, "--features", "feat", *FAST, "-o", out)
    assert res.exit_code == 0, res.output
    assert res.stdout == ""  # the summary goes to stderr
    said = " ".join(res.stderr.split())
    assert "pretrained xyz + ffn (8 dims) with mc-bld against 'feat' (5 values) on 96 points" in said
    assert {p.name for p in out.iterdir()} >= {"model.safetensors", "config.json", "config.yaml", "train_log.csv"}

    emb_path = tmp_path / "emb.parquet"
    res = cli("encode", data_file, "--model", out, "-o", emb_path)
    assert res.exit_code == 0, res.output
    table = pq.read_table(emb_path)
    got = np.asarray(table.column("embedding").combine_chunks().flatten()).reshape(table.num_rows, -1)
    lonlat = np.column_stack([table.column("lon").to_numpy(), table.column("lat").to_numpy()])
    expected = load_model(out).embed(lonlat).numpy()
    assert got.shape == (96, 8)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert table.column("name").to_pylist()[:2] == ["p0", "p1"]  # input columns kept

    res = cli("predict", out, data_file, "-o", tmp_path / "pred.parquet")  # no head: nothing to predict
    assert res.exit_code == 1 and "no prediction head" in res.stderr and not (tmp_path / "pred.parquet").exists()


@pytest.mark.parametrize("objective", ["mse", "clip", "nce", "nce-bld", "nce-pooled", "mc"])
def test_objectives_temperatures_and_weights(cli, data_file, tmp_path, objective):
    out = tmp_path / objective
    res = cli(
        "pretrain",
        data_file,
        "--features",
        "feat",
        *FAST,
        "--objective",
        objective,
        "--temperature",
        "0.2",
        "--temperature",
        "clip=0.1",
        "--weights",
        "l=0.5,d=2",
        "--random-extent",
        "data",
        "--random-negatives",
        "2",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    cfg = json.loads((out / "config.json").read_text())["pretrain"]
    assert cfg["objective"] == objective
    assert cfg["temperatures"] == {"b": 0.2, "l": 0.2, "d": 0.2, "pooled": 0.2, "clip": 0.1}
    assert cfg["weights"] == {"l": 0.5, "d": 2.0}
    assert cfg["random_negatives_per_point"] == 2


def test_csp_defaults_are_recorded(cli, data_file, tmp_path):
    res = cli("pretrain", data_file, "--features", "feat", *FAST, "-o", tmp_path / "d")
    assert res.exit_code == 0, res.output
    cfg = json.loads((tmp_path / "d" / "config.json").read_text())["pretrain"]
    assert cfg["objective"] == "mc-bld"
    assert cfg["temperatures"] == {"b": 20.0, "l": 1.0, "d": 1.0, "pooled": 0.1, "clip": 0.07}
    assert cfg["weights"] == {"l": 1.0, "d": 1.0}
    assert cfg["random_negatives_per_point"] == 1


def test_parquet_from_stdin(cli, data_file, tmp_path):
    out = tmp_path / "pre"
    res = cli("pretrain", "-", "--features", "feat", *FAST, "-o", out, input=data_file.read_bytes())
    assert res.exit_code == 0, res.output
    assert load_model(out).config["n_train"] == 96


def test_overwrite(cli, data_file, tmp_path):
    out = tmp_path / "pre"
    assert cli("pretrain", data_file, "--features", "feat", *FAST, "-o", out).exit_code == 0
    res = cli("pretrain", data_file, "--features", "feat", *FAST, "-o", out)
    assert res.exit_code == 1 and "--overwrite" in res.stderr
    assert cli("pretrain", data_file, "--features", "feat", *FAST, "-o", out, "--overwrite").exit_code == 0


def _write(tmp_path: Path, feats, typ=None) -> Path:
    typ = typ or pa.list_(pa.float32())
    n = len(feats)
    path = tmp_path / "bad.parquet"
    write_points(
        path, np.linspace(-10, 10, n), np.linspace(-5, 5, n), pa.table({"feat": pa.array(feats, typ), "txt": ["x"] * n})
    )
    return path


@pytest.mark.parametrize(
    "feats, args, code, text",
    [
        ([[1.0, 2.0]] * 4, ["--features", "nope"], 1, "feature column 'nope' not found"),
        ([[1.0, 2.0]] * 4, ["--features", "txt"], 1, "list of numbers"),
        ([[1.0, 2.0], [3.0], [4.0, 5.0]], ["--features", "feat"], 1, "different lengths"),
        ([[1.0, float("nan")], [3.0, 4.0], [4.0, 5.0]], ["--features", "feat"], 1, "NaN"),
        ([[1.0, 2.0], None, [4.0, 5.0]], ["--features", "feat"], 1, "empty rows"),
        ([[1.0, 2.0]] * 4, [], 2, "--features"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "--objective", "infonce"], 2, "unknown objective 'infonce'"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "--objective", "mcbld"], 2, "did you mean 'mc-bld'"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "--temperature", "q=1"], 2, "unknown temperature 'q'"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "--temperature", "0"], 2, "must be a finite number > 0"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "--weights", "l=x"], 2, "not a number"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "--batch-size", "1"], 2, "--batch-size"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "--random-negatives", "0"], 2, "--random-negatives"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "--random-extent", "box"], 2, "random_extent='box'"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "-m", "nope"], 2, "unknown method"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "-n", "width=3"], 2, "no parameter 'width'"),
        ([[1.0, 2.0]] * 4, ["--features", "feat", "--net", "resnet"], 2, "unknown net 'resnet'"),
    ],
)
def test_bad_pretrain_calls(cli, tmp_path, feats, args, code, text):
    path = _write(tmp_path, feats)
    out = tmp_path / "out"
    base = ["--epochs", "1"] + ([] if "-m" in args else ["-m", "xyz"])
    res = cli("pretrain", path, *base, *args, "-o", out)
    assert res.exit_code == code, res.output
    assert text in " ".join(res.stderr.split())
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not out.exists()


def test_missing_input_and_output_folder(cli, data_file, tmp_path):
    res = cli("pretrain", tmp_path / "nothing.parquet", "--features", "feat", "-o", tmp_path / "o")
    assert res.exit_code == 1 and not (tmp_path / "o").exists()
    res = cli("pretrain", data_file, "--features", "feat", "-o", tmp_path / "no" / "such" / "dir")
    assert res.exit_code == 1 and "does not exist" in res.stderr


# -- fine-tuning through `geoenc train --init` -------------------------------------------------------------
@pytest.fixture
def pretrained(cli, data_file, tmp_path) -> Path:
    out = tmp_path / "pre"
    assert cli("pretrain", data_file, "--features", "feat", *FAST, "-o", out).exit_code == 0
    return out


def test_train_from_pretrained_frozen_keeps_the_encoder(cli, data_file, pretrained, tmp_path):
    out = tmp_path / "ft"
    res = cli(
        "train",
        data_file,
        "--label",
        "hemisphere",
        "-m",
        "xyz",
        "-n",
        "hidden=16",
        "-n",
        "out=8",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--init",
        pretrained,
        "--freeze-encoder",
        "--train-fraction",
        "0.5",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    tuned = load_model(out).model.location.state_dict()
    original = load_model(pretrained).model.location.state_dict()
    assert all(torch.equal(tuned[k], original[k]) for k in original)
    from geoenc.models.data import stratified_fraction

    labels = toy_table(96)[2].column("hemisphere").to_pylist()
    assert load_model(out).config["n_train"] == len(stratified_fraction(labels, 0.5, seed=0))


@pytest.mark.parametrize(
    "args, text",
    [
        (["-m", "sphereM"], "--method"),
        (["-m", "xyz", "-n", "hidden=32", "-n", "out=8"], "--net"),
    ],
)
def test_train_with_an_incompatible_init_dir(cli, data_file, pretrained, tmp_path, args, text):
    out = tmp_path / "ft"
    res = cli("train", data_file, "--label", "hemisphere", *args, "--epochs", "1", "--init", pretrained, "-o", out)
    assert res.exit_code == 1, res.output
    assert text in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_train_with_an_init_dir_that_is_not_a_model(cli, data_file, tmp_path):
    res = cli(
        "train",
        data_file,
        "--label",
        "hemisphere",
        "-m",
        "xyz",
        "--epochs",
        "1",
        "--init",
        tmp_path,
        "-o",
        tmp_path / "ft",
    )
    assert res.exit_code == 1 and "config.json" in res.stderr and not (tmp_path / "ft").exists()


def test_train_init_defaults_to_the_pretrained_encoder_and_net(cli, data_file, pretrained, tmp_path):
    out = tmp_path / "ft"
    res = cli("train", data_file, "--label", "hemisphere", "--epochs", "1", "--init", pretrained, "-o", out)
    assert res.exit_code == 0, res.output
    cfg = load_model(out).config
    assert cfg["encoder"]["name"] == "xyz" and cfg["net"]["params"]["hidden"] == 16


def test_freeze_without_init_is_a_usage_error(cli, data_file, tmp_path):
    res = cli("train", data_file, "--label", "hemisphere", "--freeze-encoder", "-o", tmp_path / "ft")
    assert res.exit_code == 2 and "--init" in res.stderr and not (tmp_path / "ft").exists()

"""`geoenc train` as a user runs it: model folder contents, options, config files, and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geoenc.io import write_points
from geoenc.models import load_model
from tests.training.helpers import point_table

FAST = ["-m", "xyz", "-n", "hidden=16", "-n", "out=8", "--epochs", "2", "--batch-size", "64", "--seed", "1"]


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    lon, lat, attrs = point_table(200, with_features=True, with_prior=True)
    path = tmp_path / "train.parquet"
    write_points(path, lon, lat, attrs)
    return path


def test_train_classification_writes_model_dir(cli, train_file, tmp_path):
    out = tmp_path / "model"
    res = cli("train", train_file, "--label", "region", *FAST, "--val-fraction", "0.2", "-o", out)
    assert res.exit_code == 0, res.output
    assert res.stdout == ""  # summaries go to stderr
    assert "trained xyz + ffn classification (4 classes)" in " ".join(res.stderr.split())
    m = load_model(out)
    assert m.classes == ["NE", "NW", "SE", "SW"] and m.config["net"]["params"]["hidden"] == 16
    assert m.config["n_val"] == 40 and m.config["label"] == "region"
    saved = (out / "config.yaml").read_text()
    assert "epochs: 2" in saved and "method: xyz" in saved


def test_train_regression_with_task_and_loss(cli, train_file, tmp_path):
    res = cli("train", train_file, "--label", "value", *FAST, "--loss", "l1", "-o", tmp_path / "r")
    assert res.exit_code == 0, res.output
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["task"] == "regression" and cfg["loss"] == "l1" and cfg["target_stats"]["std"] > 0


def test_train_with_features_and_separate_val(cli, train_file, tmp_path):
    res = cli(
        "train", train_file, "--label", "region", "--features", "feat", "--val", train_file, *FAST, "-o", tmp_path / "f"
    )
    assert res.exit_code == 0, res.output
    assert load_model(tmp_path / "f").feature_column == "feat"


def test_config_yaml_and_cli_precedence(cli, train_file, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("label: region\nmethod: xyz\nepochs: 1\nlr: 0.005\nnet_params: {hidden: 8, out: 4}\n")
    res = cli("train", train_file, "--config", cfg, "--epochs", "2", "-o", tmp_path / "y")
    assert res.exit_code == 0, res.output
    saved = (tmp_path / "y" / "config.yaml").read_text()
    assert "epochs: 2" in saved and "lr: 0.005" in saved
    assert load_model(tmp_path / "y").config["net"]["params"]["out"] == 4


def test_overwrite_and_resume_flags(cli, train_file, tmp_path):
    out = tmp_path / "model"
    assert cli("train", train_file, "--label", "region", *FAST, "-o", out).exit_code == 0
    res = cli("train", train_file, "--label", "region", *FAST, "-o", out)
    assert res.exit_code == 1 and "--overwrite" in res.stderr
    assert cli("train", train_file, "--label", "region", *FAST, "-o", out, "--overwrite").exit_code == 0
    res = cli("train", train_file, "-o", out, "--resume")
    assert res.exit_code == 1 and "no resumable checkpoint" in res.stderr


@pytest.mark.parametrize(
    "args, code, text",
    [
        (["--label", "nope"], 1, "label column 'nope' not found"),
        (["--label", "name"], 1, "classes"),  # every row its own class is fine, but 'name' …
        (["--label", "region", "--net", "resnet"], 2, "unknown net 'resnet'"),
        (["--label", "region", "-n", "width=3"], 2, "no parameter 'width'"),
        (["--label", "region", "-n", "hidden"], 2, "KEY=VALUE"),
        (["--label", "region", "-m", "nope"], 2, "unknown method"),
        (["--label", "region", "--loss", "mse"], 2, "does not fit task"),
        (["--label", "region", "--task", "ranking"], 2, "task 'ranking'"),
        (["--label", "region", "--val", "x.parquet", "--val-fraction", "0.1"], 2, "either --val or --val-fraction"),
        (["--label", "region", "--features", "name"], 1, "list of numbers"),
        ([], 2, "--label"),
        (["--label", "region", "--epochs", "0"], 2, "epochs"),
    ],
)
def test_bad_train_calls(cli, train_file, tmp_path, args, code, text):
    out = tmp_path / "bad"
    base = ["-m", "xyz", "--epochs", "1"] if "-m" not in args else ["--epochs", "1"]
    res = cli("train", train_file, *base, *args, "-o", out)
    if text == "classes":  # 'name' has 200 classes of one point each: trains; check it really ran
        assert res.exit_code == 0, res.output
        return
    assert res.exit_code == code, res.output
    assert text in " ".join(res.stderr.split())
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not out.exists()


def test_one_class_and_nan_targets(cli, tmp_path):
    import numpy as np
    import pyarrow as pa

    lon = np.linspace(-10, 10, 20)
    lat = np.linspace(-5, 5, 20)
    vals = np.arange(20.0)
    vals[3] = np.nan
    path = tmp_path / "d.parquet"
    write_points(path, lon, lat, pa.table({"c": ["a"] * 20, "v": vals}))
    res = cli("train", path, "--label", "c", "-m", "xyz", "--epochs", "1", "-o", tmp_path / "o")
    assert res.exit_code == 1 and "at least two" in res.stderr
    res = cli("train", path, "--label", "v", "-m", "xyz", "--epochs", "1", "-o", tmp_path / "o")
    assert res.exit_code == 1 and "NaN" in res.stderr
    assert not (tmp_path / "o").exists()


def test_names_and_settings_are_checked_before_the_data_is_read(cli, train_file, tmp_path):
    # the method's typo is reported, not the (also wrong) label, which needs the data to be read
    res = cli("train", train_file, "--label", "nope", "-m", "spherM", "-o", tmp_path / "m")
    assert res.exit_code == 2 and "did you mean 'sphereM'" in res.stderr and "nope" not in res.stderr
    res = cli("train", tmp_path / "missing.parquet", "--label", "y", "--lr", "inf", "-o", tmp_path / "m")
    assert res.exit_code == 2 and "--lr must be a finite number" in res.stderr


def test_one_device_parser_for_every_command(cli, train_file, tmp_path):
    res = cli("train", train_file, "--label", "region", *FAST, "--device", "CPU", "-o", tmp_path / "m")
    assert res.exit_code == 0, res.stderr  # any letter case, as `encode --device CPU` always took
    res = cli("encode", train_file, "-m", "xyz", "--device", "Cpu", "-o", tmp_path / "e.parquet")
    assert res.exit_code == 0, res.stderr
    for command in (["train", train_file, "--label", "region", *FAST], ["encode", train_file, "-m", "xyz"]):
        res = cli(*command, "--device", "tpu", "-o", tmp_path / "x")
        assert res.exit_code == 2 and "choose auto, cpu, cuda or cuda:N" in res.stderr
    from geoenc.device import parse_device

    assert parse_device("CUDA:1") == "cuda:1"  # the words are accepted; whether the GPU exists is checked on use


def test_help_states_the_defaults_that_apply(cli):
    # the help text reads geoenc.defaults, so it cannot drift from what TrainConfig does
    from geoenc import defaults

    text = " ".join(cli("train", "--help").stdout.split())
    for flag, value in (
        ("Epochs", defaults.TRAIN_EPOCHS),
        ("Points per batch", defaults.TRAIN_BATCH_SIZE),
        ("AdamW learning rate", f"{defaults.TRAIN_LR:g}"),
        ("AdamW weight decay", f"{defaults.TRAIN_WEIGHT_DECAY:g}"),
    ):
        assert f"{flag} (default {value})" in text
    assert f"default {defaults.TRAIN_METHOD}, or the --init folder's" in text

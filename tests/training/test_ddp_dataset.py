"""Training from a partitioned dataset: one process reads it as the concatenated table; under torchrun (2 gloo
processes, as tests/training/test_ddp.py) every rank reads the whole dataset (docs/scale.md)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from geoenc.io import write_points
from tests.training.helpers import point_table

# _run kills the whole process group of a hung run and shows its output
from tests.training.test_ddp import TRAIN_ARGS, _run

ARGS = TRAIN_ARGS


def _data(tmp_path):
    lon, lat, attrs = point_table(1000, seed=3)
    write_points(tmp_path / "whole.parquet", lon, lat, attrs)
    (tmp_path / "ds").mkdir()
    for i in range(4):  # 4 partitions of 250 rows, in the whole file's order
        sl = slice(250 * i, 250 * (i + 1))
        write_points(tmp_path / "ds" / f"part-{i}.parquet", lon[sl], lat[sl], attrs.slice(250 * i, 250))


def test_training_on_a_dataset_is_training_on_its_concatenation(tmp_path, cli):
    _data(tmp_path)
    one = cli("train", tmp_path / "whole.parquet", "-o", tmp_path / "one", *ARGS)
    two = cli("train", tmp_path / "ds", "-o", tmp_path / "two", *ARGS)
    assert one.exit_code == 0 and two.exit_code == 0, two.stderr
    a = json.loads((tmp_path / "one" / "metrics.json").read_text())
    b = json.loads((tmp_path / "two" / "metrics.json").read_text())
    for timing in ("samples_per_second", "train_seconds"):
        a.pop(timing), b.pop(timing)
    assert a == b and a["val"]["n"] == 200
    assert (tmp_path / "one" / "model.safetensors").read_bytes() == (
        tmp_path / "two" / "model.safetensors"
    ).read_bytes()


@pytest.mark.slow
def test_torchrun_two_processes_train_from_a_dataset(tmp_path):
    _data(tmp_path)
    # loopback for gloo and a bounded wait in a stalled collective, as tests/training/test_ddp.py
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GEOENC_DIST_TIMEOUT": "120"}
    if sys.platform.startswith("linux"):
        env["GLOO_SOCKET_IFNAME"] = "lo"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "geoenc"]
    multi = _run([*cmd, "train", str(tmp_path / "ds"), *ARGS, "-o", str(tmp_path / "two")], env)
    assert multi.returncode == 0, multi.stderr
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert two["val"]["n"] == 200 and two["val"]["top1"] > 0.85
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "two", "whole.parquet"]

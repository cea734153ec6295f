"""DistributedDataParallel through torchrun: 2 CPU processes (gloo) train as well as one, rank 0 writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from geoenc.io import write_points
from tests.training.helpers import point_table


@pytest.mark.slow
def test_torchrun_two_processes_matches_single_process(tmp_path):
    lon, lat, attrs = point_table(1000, seed=3)
    data = tmp_path / "d.parquet"
    write_points(data, lon, lat, attrs)
    args = [
        "train",
        str(data),
        "--label",
        "region",
        "-m",
        "xyz",
        "-n",
        "hidden=32",
        "-n",
        "out=16",
        "--epochs",
        "6",
        "--batch-size",
        "64",
        "--lr",
        "0.01",
        "--val-fraction",
        "0.2",
        "--device",
        "cpu",
        "--quiet",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run(
        [sys.executable, "-m", "geoenc", *args, "-o", str(tmp_path / "one")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert single.returncode == 0, single.stderr
    multi = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "geoenc",
            *args,
            "-o",
            str(tmp_path / "two"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert multi.returncode == 0, multi.stderr
    one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert two["val"]["n"] == one["val"]["n"] == 200
    assert two["val"]["top1"] > 0.85 and abs(two["val"]["top1"] - one["val"]["top1"]) < 0.08
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet", "one", "two"]

"""DistributedDataParallel through torchrun: 2 CPU processes (gloo) train as well as one, rank 0 writes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from geoenc.io import write_points
from tests.training.helpers import point_table

#: a small model trained the same way in one process and under torchrun (also tests/training/test_ddp_dataset.py)
TRAIN_ARGS = [
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


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; on a hang, kill its whole process group and fail with what it printed."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        # torchrun's workers may sit in sessions of their own: kill every descendant, then the group
        for pid in _descendants(proc.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        os.killpg(proc.pid, signal.SIGKILL)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            out, err = "", "(its output pipes stayed open)"
        pytest.fail(f"torchrun did not finish in 300 s; it printed:\n{out[-3000:]}\n{err[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.slow
def test_torchrun_two_processes_matches_single_process(tmp_path):
    lon, lat, attrs = point_table(1000, seed=3)
    data = tmp_path / "d.parquet"
    write_points(data, lon, lat, attrs)
    args = ["train", str(data), *TRAIN_ARGS]
    # loopback for gloo (a host name that resolves elsewhere would stall it); a stalled collective fails in 120 s
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GEOENC_DIST_TIMEOUT": "120"}
    if sys.platform.startswith("linux"):
        env["GLOO_SOCKET_IFNAME"] = "lo"
    single = subprocess.run(
        [sys.executable, "-m", "geoenc", *args, "-o", str(tmp_path / "one")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert single.returncode == 0, single.stderr
    multi = _run(
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
        env,
    )
    assert multi.returncode == 0, multi.stderr
    one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert two["val"]["n"] == one["val"]["n"] == 200
    assert two["val"]["top1"] > 0.85 and abs(two["val"]["top1"] - one["val"]["top1"]) < 0.08
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet", "one", "two"]

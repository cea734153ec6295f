"""Ctrl-C during a multi-process SSI run: workers ignore SIGINT, the parent stops the pool, the command
prints "interrupted", exits 130 without a traceback and leaves no output file and no worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from geoenc.io import write_points


def _group(pgid: int) -> list[int]:
    """Process ids in process group ``pgid`` (from /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_ctrl_c_ends_a_multiprocess_geobias_cleanly(tmp_path):
    rng = np.random.default_rng(0)
    n = 40_000  # dense enough that every centre has ~400 neighbours: minutes of work, interrupted after 1 s
    lon, lat = rng.uniform(0, 12, n), rng.uniform(40, 50, n)
    hit = (rng.random(n) < 0.7).astype(float)
    preds = tmp_path / "preds.parquet"
    write_points(preds, lon, lat, pa.table({"id": np.arange(n)}), {"hit@1": hit})
    out = tmp_path / "report.parquet"
    cmd = [sys.executable, "-m", "geoenc", "geobias", str(preds), "-o", str(out)]
    cmd += ["--ssi-centres", "all", "--relative", "20", "--jobs", "2"]
    # a new session: the signal goes to the whole process group, as a terminal's Ctrl-C does
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # the note before scoring starts
            seen.append(line)
            if "low-performance by" in line:
                break
        else:
            pytest.fail("geobias ended before scoring: " + "".join(seen))
        deadline = time.monotonic() + 120
        while len(_group(proc.pid)) < 3:  # wait for the pool: the parent and its 2 workers
            assert proc.poll() is None, "finished before the pool started: make the run longer"
            assert time.monotonic() < deadline, "no worker processes appeared"
            time.sleep(0.05)
        time.sleep(0.5)  # the workers are scoring
        assert proc.poll() is None, "finished before the signal: make the run longer"
        os.killpg(proc.pid, signal.SIGINT)
        rest_out, rest_err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    err = "".join(seen) + rest_err
    assert proc.returncode == 130, err
    assert "interrupted" in rest_err and "Traceback" not in err, err
    assert rest_out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preds.parquet"]  # no report, no temporary file
    # no worker left behind: the pool's workers are gone at once; the forkserver and multiprocessing's resource
    # tracker end by themselves when they see the parent's pipe close
    deadline = time.monotonic() + 10
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group(proc.pid) == []

"""benchmarks/gpu_report.py must not rot: its dry run executes every path on the CPU (tiny sizes, two gloo
processes for DDP) and asserts nothing about speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_report_dry_run(tmp_path):
    out = tmp_path / "gpu.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_report.py"), "--dry-run", "--json", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["dry_run"] is True
    from geoenc.encoders import encoder_names

    assert [r["encoder"] for r in report["encode"]["rows"]] == [*encoder_names(), "sh"]
    assert all(r["float32_points_per_s"] > 0 and r["bfloat16_points_per_s"] > 0 for r in report["encode"]["rows"])
    assert {(r["batch"], r["amp"]) for r in report["train"]} == {(64, "off"), (64, "bf16"), (256, "off"), (256, "bf16")}
    assert all(r["geoenc_samples_per_s"] > 0 and r["reference_samples_per_s"] > 0 for r in report["train"])
    assert report["ddp"]["processes"] == 2 and report["ddp"]["samples_per_second"] > 0
    assert "DRY RUN" in proc.stdout

"""Command-line conventions users of GDAL, rio and Unix tools expect (issue 15's list of slips)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from geoenc.io import write_points
from tests.training.helpers import point_table

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "cities.csv"


def test_a_closed_pipe_is_a_normal_end(tmp_path):
    # `geoenc encode … -o - | head -n 3`: the reader stops early; geoenc ends quietly with 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = (
        f"{sys.executable} -m geoenc encode {SAMPLE} -m xyz -o - --output-format csv --quiet | head -n 3; "
        'echo "exit=${PIPESTATUS[0]}"'
    )
    res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env, timeout=300)
    lines = res.stdout.splitlines()
    assert len(lines) == 4 and lines[-1] == "exit=0", res.stdout + res.stderr
    assert res.stderr == "", res.stderr  # no traceback, no message


def test_shell_completion_is_offered(cli):
    assert "--install-completion" in cli("--help").stdout


def test_model_folders_follow_the_umask(cli, tmp_path):
    data = tmp_path / "d.parquet"
    write_points(data, *point_table(120))
    mask = os.umask(0o022)
    try:
        res = cli(
            "train",
            data,
            "--label",
            "region",
            "-m",
            "xyz",
            "-n",
            "hidden=8",
            "-n",
            "out=4",
            "--epochs",
            "1",
            "-o",
            tmp_path / "m",
        )
    finally:
        os.umask(mask)
    assert res.exit_code == 0, res.stderr
    assert stat.S_IMODE((tmp_path / "m").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "m" / "model.safetensors").stat().st_mode) == 0o644


def test_train_without_validation_says_its_scores_are_training_scores(cli, tmp_path):
    data = tmp_path / "d.parquet"
    write_points(data, *point_table(120))
    fast = ["--label", "region", "-m", "xyz", "-n", "hidden=8", "-n", "out=4", "--epochs", "1"]
    res = cli("train", data, *fast, "-o", tmp_path / "a")
    assert res.exit_code == 0 and "TRAINING-set" in res.stderr and "--val-fraction" in res.stderr
    res = cli("train", data, *fast, "--val-fraction", "0.2", "-o", tmp_path / "b")
    assert res.exit_code == 0 and "validation" in res.stderr and "TRAINING-set" not in res.stderr


def test_benchmark_prints_its_table_on_stdout(cli, tmp_path):
    train, test = tmp_path / "train.parquet", tmp_path / "test.parquet"
    write_points(train, *point_table(200, seed=0))
    write_points(test, *point_table(100, seed=1))
    res = cli(
        "benchmark",
        train,
        test,
        "--label",
        "region",
        "--methods",
        "xyz",
        "--epochs",
        "1",
        "--net",
        "linear",
        "--baselines",
        "knn",
        "--device",
        "cpu",
        "-o",
        tmp_path / "res",
        "--quiet",
    )
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith("| method |") and "knn (baseline)" in res.stdout
    assert (tmp_path / "res" / "results.png").is_file()


def test_the_quickstart_runs_after_the_readme(tmp_path):
    """docs/quickstart.md's first encode follows the README's, which already wrote the same file."""
    text = (ROOT / "docs" / "quickstart.md").read_text()
    line = next(x for x in text.splitlines() if x.startswith("geoenc encode sample_data/cities.parquet"))
    assert "cities_sphereM.parquet" in line and "--overwrite" in line

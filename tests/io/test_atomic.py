"""The one atomic writer: files and folders appear whole or not at all; --overwrite never deletes a user's files."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geoenc.errors import OutputError
from geoenc.io.atomic import MANIFEST, AtomicDir, AtomicFile, Outputs, is_geoenc_dir
from tests.training.helpers import point_table

ROOT = Path(__file__).resolve().parents[2]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_overwrite_never_deletes_a_users_folder(cli, tmp_path):
    from geoenc.io import write_points

    data = tmp_path / "DATA"
    data.mkdir()
    lon, lat, attrs = point_table(120)
    write_points(data / "train.parquet", lon, lat, attrs)
    (data / "notes.txt").write_text("mine")
    fast = ["--label", "region", "-m", "xyz", "-n", "hidden=8", "-n", "out=4", "--epochs", "1", "--overwrite"]
    # the folder holds the command's own input
    res = cli("train", data / "train.parquet", *fast, "-o", data)
    assert res.exit_code == 1 and "holds" in res.stderr and "an input of this command" in res.stderr
    # the folder holds files geoenc did not write (the input elsewhere)
    other = tmp_path / "elsewhere.parquet"
    write_points(other, lon, lat, attrs)
    res = cli("train", other, *fast, "-o", data)
    assert res.exit_code == 1 and "files geoenc did not write" in res.stderr
    assert sorted(p.name for p in data.iterdir()) == ["notes.txt", "train.parquet"]
    # the working folder (`-o .`) is never replaced, and nothing is left behind in or above it
    old = os.getcwd()
    try:
        os.chdir(data)
        res = cli("train", "train.parquet", *fast, "-o", ".")
    finally:
        os.chdir(old)
    assert res.exit_code == 1 and "working folder" in res.stderr
    assert sorted(p.name for p in data.iterdir()) == ["notes.txt", "train.parquet"] and not _leftovers(tmp_path)
    # a folder geoenc wrote is replaced
    model = tmp_path / "model"
    assert cli("train", other, *fast, "-o", model).exit_code == 0
    assert is_geoenc_dir(model) and (model / MANIFEST).is_file()
    assert cli("train", other, *fast, "--seed", "3", "-o", model).exit_code == 0
    assert not _leftovers(tmp_path)


def test_autoencode_never_deletes_its_raster(cli, tmp_path):
    from tests.imagery.rasters import toy_image, write_raster

    folder = tmp_path / "imgs"
    folder.mkdir()
    raster = write_raster(folder / "img.tif", toy_image(48, 48))
    res = cli("autoencode", raster, "--size", "16", "--samples", "50", "--epochs", "1", "-o", folder, "--overwrite")
    assert res.exit_code == 1 and raster.is_file()


def test_legacy_model_folders_are_still_recognised(tmp_path):
    old = tmp_path / "m"
    old.mkdir()
    (old / "config.json").write_text('{"format_version": 1, "geoenc_version": "0.1.0"}')
    (old / "model.safetensors").write_bytes(b"x")
    assert is_geoenc_dir(old)
    (old / "my.csv").write_text("a")
    assert not is_geoenc_dir(old)


def test_folder_permissions_follow_the_umask(tmp_path):
    mask = os.umask(0o022)
    try:
        with AtomicDir(tmp_path / "out") as d:
            (d.path / "f.txt").write_text("x")
        with AtomicFile(tmp_path / "f.bin") as f:
            f.path.write_bytes(b"x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "f.bin").stat().st_mode) == 0o644


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_special_files_are_written_through_not_replaced(tmp_path, csv_file):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "geoenc",
            "encode",
            str(csv_file),
            "-m",
            "xyz",
            "-o",
            str(fifo),
            "--overwrite",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    out, _ = reader.communicate(timeout=60)
    assert res.returncode == 0, res.stderr
    assert out.decode().splitlines()[0].startswith('"name",') and stat.S_ISFIFO(fifo.stat().st_mode)
    # a symlink to a regular file: the file is replaced, the link stays a link
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "geoenc",
            "encode",
            str(csv_file),
            "-m",
            "xyz",
            "-o",
            str(link),
            "--overwrite",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert link.is_symlink() and target.read_text().startswith('"name",')


def test_outputs_group_writes_all_or_nothing(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    with pytest.raises(RuntimeError), Outputs() as outs:
        outs.file(a).path.write_text("1")
        outs.file(b).path.write_text("2")
        raise RuntimeError("the second step failed")
    assert not a.exists() and not b.exists() and not _leftovers(tmp_path)
    with pytest.raises(OutputError, match="both name"), Outputs() as outs:
        outs.file(a)
        outs.file(tmp_path / "." / "a.txt")
    assert not _leftovers(tmp_path)


def test_geobias_png_same_as_report_is_refused_before_any_output(cli, tmp_path):
    from geoenc.io import write_points

    lon, lat, attrs = point_table(60)
    import pyarrow as pa

    attrs = attrs.append_column("hit@1", pa.array([float(i % 3 == 0) for i in range(60)]))
    preds = tmp_path / "p.parquet"
    write_points(preds, lon, lat, attrs)
    res = cli("geobias", preds, "-o", tmp_path / "r.parquet", "--png", tmp_path / "r.parquet", "--gi-k", "4")
    assert res.exit_code == 1 and "both name" in res.stderr and not (tmp_path / "r.parquet").exists()
    res = cli("geobias", preds, "-o", tmp_path / "r.parquet", "--raster", tmp_path / "r.tif", "--cell-deg", "1e-9")
    assert res.exit_code == 2 and "--cell-deg" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.parquet"]


def test_sigterm_leaves_no_partial_file(tmp_path):
    out = tmp_path / "o.parquet"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "geoenc", "encode", "-", "--format", "csv", "-m", "xyz", "-o", str(out)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdin.write(b"lon,lat\n1,2\n")  # stdin stays open: the command waits for the rest of its input
    proc.stdin.flush()
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.suffix == ".part" for p in tmp_path.iterdir()):
        time.sleep(0.1)
    assert any(p.suffix == ".part" for p in tmp_path.iterdir()), "the output's temporary file never appeared"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and b"terminated" in err
    assert list(tmp_path.iterdir()) == []

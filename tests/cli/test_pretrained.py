"""`geoenc pretrained` (list, --json), `pretrained import`, then encode / map --dim / train --init with the import,
and the refused inputs: each one line on stderr, exit 1 (or 2 for usage), and no directory left behind."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from geoenc.io import write_points
from tests.pretrained import upstream_format as U
from tests.pretrained.geoclip_package import package_dir


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def csp_file(tmp_path: Path) -> Path:
    return U.write(U.csp_checkpoint(**U.CSP_SMALL), tmp_path / "csp.pth.tar")


@pytest.fixture
def points(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-180, 180, 120), np.degrees(np.arcsin(rng.uniform(-1, 1, 120)))
    import pyarrow as pa

    path = tmp_path / "pts.parquet"
    write_points(path, lon, lat, pa.table({"half": np.where(lat > 0, "N", "S")}))
    return path


def one_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# -- listing --------------------------------------------------------------------------------------------------
def test_list_table_and_json(cli):
    res = cli("pretrained")
    assert res.exit_code == 0, res.output
    for name in ("geoclip", "satclip", "csp", "sinr"):
        assert name in res.stdout
    res = cli("pretrained", "--json")
    assert res.exit_code == 0
    rows = json.loads(res.stdout)
    assert [r["name"] for r in rows] == ["geoclip", "satclip", "csp", "sinr"]
    assert {r["name"]: r["embedding_dim"] for r in rows} == {"geoclip": 512, "satclip": 256, "csp": 256, "sinr": 256}
    assert all(r["citation"] and r["licence"] and r["input_convention"] for r in rows)
    assert json.loads(cli("pretrained", "list", "--json").stdout) == rows


# -- import, then use ---------------------------------------------------------------------------------------
def test_import_then_encode_map_and_train(cli, csp_file, points, tmp_path):
    import hashlib

    model = tmp_path / "csp_model"
    res = cli("pretrained", "import", "csp", "--from", csp_file, "-o", model)
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    said = " ".join(res.stderr.split())
    assert "imported csp (CSP location encoder" in said and "16 dims" in said
    digest = hashlib.sha256(csp_file.read_bytes()).hexdigest()

    emb = tmp_path / "emb.parquet"
    res = cli("encode", points, "--model", model, "-o", emb)
    assert res.exit_code == 0, res.output
    table = pq.read_table(emb)
    assert table.num_rows == 120 and table.schema.field("embedding").type.list_size == 16
    meta = json.loads(table.schema.metadata[b"geoenc"])
    assert meta["model_config"]["source"]["model"] == "csp"
    assert meta["model_config"]["source"]["weights_file_sha256"] == digest

    tif = tmp_path / "dim3.tif"
    res = cli("map", model, "--dim", "3", "--cell-deg", "10", "-o", tif)
    assert res.exit_code == 0, res.output
    import rasterio

    with rasterio.open(tif) as ds:
        assert ds.descriptions == ("csp_model embedding dimension 3",)
        assert ds.tags()["geoenc_source_model"] == "csp"
        assert ds.tags()["geoenc_source_weights_sha256"] == digest
        band = ds.read(1)
    assert band.shape == (18, 36) and np.isfinite(band).all() and band.std() > 0

    out = tmp_path / "probe"
    res = cli("train", points, "--label", "half", "--init", model, "--freeze-encoder", "--epochs", "2", "-o", out)
    assert res.exit_code == 0, res.output
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["encoder"]["name"] == "grid" and cfg["freeze_encoder"] is True
    assert cfg["init_source"]["weights_file_sha256"] == digest


def test_map_dim_errors(cli, csp_file, tmp_path):
    model = tmp_path / "m"
    assert cli("pretrained", "import", "csp", "--from", csp_file, "-o", model).exit_code == 0
    res = cli("map", model, "--dim", "16", "-o", tmp_path / "x.tif")
    assert res.exit_code == 2 and "--dim must be in [0, 15]" in one_line(res.stderr)
    res = cli("map", model, "--class", "a", "-o", tmp_path / "x.tif")
    assert res.exit_code == 2 and "with --dim I" in res.stderr
    assert not (tmp_path / "x.tif").exists()


@pytest.mark.skipif(package_dir() is None, reason="geoclip is not installed (pip install --no-deps geoclip==1.3.0)")
def test_geoclip_import_from_the_installed_package_then_encode(cli, points, tmp_path):
    model = tmp_path / "geoclip"
    res = cli("pretrained", "import", "geoclip", "-o", model)
    assert res.exit_code == 0, res.output
    assert "geoclip 1.3.0 (PyPI wheel)" in " ".join(res.stderr.split())
    emb = tmp_path / "emb.parquet"
    assert cli("encode", points, "--model", model, "-o", emb).exit_code == 0
    assert pq.read_table(emb).schema.field("embedding").type.list_size == 512
    # the same file given with --from (a folder holding it works too)
    weights = package_dir() / "model" / "weights"
    res = cli("pretrained", "import", "geoclip", "--from", weights, "-o", tmp_path / "again")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "again" / "model.safetensors").read_bytes() == (model / "model.safetensors").read_bytes()


# -- refused inputs -------------------------------------------------------------------------------------------
class _Payload:
    """Pickles to a call of os.getcwd: harmless, but a global that safe loading must refuse."""

    def __reduce__(self):
        return (os.getcwd, ())


def _bad_files(tmp: Path) -> dict[str, Path]:
    good = io.BytesIO()
    torch.save(U.satclip_checkpoint(**U.SATCLIP_SMALL), good)
    data = good.getvalue()
    files = {
        "corrupt": b"this is not a checkpoint\n" * 40,
        "truncated": data[: len(data) // 2],
        "empty": b"",
        # protocol 2, as torch.save writes: the restricted unpickler reaches the global and names it
        "pickle payload": pickle.dumps({"state_dict": {}, "hyper_parameters": _Payload()}, protocol=2),
        "pickle protocol 4": pickle.dumps({"state_dict": {}, "hyper_parameters": _Payload()}, protocol=4),
    }
    out = {}
    for name, raw in files.items():
        p = tmp / f"{name.replace(' ', '_')}.ckpt"
        p.write_bytes(raw)
        out[name] = p
    # a torch zip file whose pickle holds an object of a class (refused the same way)
    obj = tmp / "object.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": zipfile.ZipInfo("x")}, obj)
    out["object"] = obj
    out["geoclip-like"] = U.write({"LocEnc0.capsule.0.b": torch.zeros(4, 2)}, tmp / "geoclip_like.pth")
    out["csp"] = U.write(U.csp_checkpoint(**U.CSP_SMALL), tmp / "csp.pth.tar")
    out["sinr"] = U.write(U.sinr_checkpoint(**U.SINR_SMALL), tmp / "sinr.pt")
    out["satclip L12"] = U.write(U.satclip_checkpoint(**{**U.SATCLIP_SMALL, "legendre_polys": 12}), tmp / "l12.ckpt")
    bad_shape = U.satclip_checkpoint(**U.SATCLIP_SMALL)
    for key in ("model.location.nnet.layers.0.weight", "model.nnet.layers.0.weight"):
        bad_shape["state_dict"][key] = torch.zeros(32, 99, dtype=torch.float64)
    out["satclip bad shape"] = U.write(bad_shape, tmp / "shape.ckpt")
    theory = U.csp_checkpoint(**U.CSP_SMALL)
    theory["params"]["spa_enc_type"] = "theory"
    out["csp theory"] = U.write(theory, tmp / "theory.pth.tar")
    env = U.sinr_checkpoint(**U.SINR_SMALL)
    env["params"]["input_enc"] = "env"
    out["sinr env"] = U.write(env, tmp / "env.pt")
    nan = U.sinr_checkpoint(**U.SINR_SMALL)
    nan["state_dict"]["feats.0.bias"][0] = float("nan")
    out["sinr nan"] = U.write(nan, tmp / "nan.pt")
    return out


BAD_CASES = {
    # case: (model, file key, exit code, text in the one-line message)
    "corrupt file": ("satclip", "corrupt", 1, "is truncated or corrupt"),
    "truncated file": ("satclip", "truncated", 1, "is truncated or corrupt"),
    "empty file": ("csp", "empty", 1, "is empty"),
    "pickle payload refused": ("satclip", "pickle payload", 1, "objects (posix.getcwd) that safe loading"),
    "pickle protocol 4 refused": ("sinr", "pickle protocol 4", 1, "(torch.load weights_only=True) refuses"),
    "class object refused": ("satclip", "object", 1, "zipfile.ZipInfo"),
    "geoclip refused payload": ("geoclip", "pickle payload", 1, "never unpickles code"),
    "csp file as satclip": ("satclip", "csp", 1, "looks like a csp checkpoint"),
    "sinr file as csp": ("csp", "sinr", 1, "looks like a sinr checkpoint"),
    "satclip file as geoclip": ("geoclip", "satclip L12", 1, "looks like a satclip checkpoint"),
    "geoclip-like as sinr": ("sinr", "geoclip-like", 1, "looks like a geoclip checkpoint"),
    "geoclip of other shape": ("geoclip", "geoclip-like", 1, "scale branches"),
    "satclip unknown L": ("satclip", "satclip L12", 1, "legendre_polys L=12"),
    "satclip bad shape": ("satclip", "satclip bad shape", 1, "has shape (32, 99), expected (32, 100)"),
    "csp theory": ("csp", "csp theory", 1, "spa_enc_type='theory'"),
    "sinr env": ("sinr", "sinr env", 1, "input_enc='env'"),
    "sinr nan": ("sinr", "sinr nan", 1, "NaN"),
    "missing file": ("sinr", None, 1, "does not exist"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_refused_inputs(cli, tmp_path, case):
    name, key, code, text = BAD_CASES[case]
    files = _bad_files(tmp_path)
    src = files[key] if key else tmp_path / "nope.pt"
    out = tmp_path / "out"
    res = cli("pretrained", "import", name, "--from", src, "-o", out)
    assert res.exit_code == code, res.output
    line = one_line(res.stderr)
    assert line.startswith("geoenc: error: ")
    assert text in line, line
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temporary leftovers


def test_usage_errors(cli, tmp_path, csp_file):
    res = cli("pretrained", "import", "satclip", "-o", tmp_path / "o")
    assert res.exit_code == 2 and "--from" in one_line(res.stderr)
    res = cli("pretrained", "import", "satclp", "--from", csp_file, "-o", tmp_path / "o")
    assert res.exit_code == 2 and "did you mean 'satclip'" in res.stderr
    (tmp_path / "exists").mkdir()
    res = cli("pretrained", "import", "csp", "--from", csp_file, "-o", tmp_path / "exists")
    assert res.exit_code == 1 and "--overwrite" in one_line(res.stderr)
    res = cli("pretrained", "import", "csp", "--from", csp_file, "-o", tmp_path / "exists", "--overwrite")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "exists" / "model.safetensors").is_file()

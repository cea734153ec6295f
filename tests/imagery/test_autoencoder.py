"""The chip autoencoder: shapes, learning a toy raster, determinism, embeddings, the anomaly map, model dirs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import torch
from rasterio.transform import from_origin

from geoenc.errors import InputError, ModelError
from geoenc.imagery.autoencoder import ConvAutoencoder, is_autoencoder_dir, load_autoencoder
from geoenc.imagery.embed import embed_points_with_autoencoder
from geoenc.imagery.training import AutoencoderConfig, train_autoencoder
from geoenc.io import read_points, write_points
from geoenc.workflows.map import map_reconstruction_error as reconstruction_error_map
from tests.imagery.rasters import toy_image, write_raster

TOY_T = from_origin(1_000_000, 2_000_000, 50, 50)  # EPSG:3857, 50 m pixels
SMALL = dict(size=8, latent=8, width=8, batch_size=32)


def _lonlat_of_pixels(rows, cols):
    from pyproj import Transformer

    x, y = TOY_T.c + TOY_T.a * (np.asarray(cols) + 0.5), TOY_T.f + TOY_T.e * (np.asarray(rows) + 0.5)
    lon, lat = Transformer.from_crs("EPSG:3857", "OGC:CRS84", always_xy=True).transform(x, y)
    return np.column_stack([lon, lat])


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_raster(tmp_path_factory.mktemp("toy") / "toy.tif", toy_image(), "EPSG:3857", TOY_T)


@pytest.fixture(scope="module")
def trained(toy, tmp_path_factory):
    out = tmp_path_factory.mktemp("ae") / "ae"
    metrics = train_autoencoder(toy, out, AutoencoderConfig(samples=600, epochs=8, lr=3e-3, **SMALL), device="cpu")
    return out, metrics


@pytest.mark.parametrize("size, depth", [(8, 1), (16, 2), (32, 3), (5, 0), (12, 1)])
def test_shapes_round_trip(size, depth):
    m = ConvAutoencoder(bands=3, size=size, latent=7, width=4)
    assert m.depth == depth
    z, rec = m(torch.randn(2, 3, size, size))
    assert z.shape == (2, 7) and rec.shape == (2, 3, size, size)


def test_learns_the_toy_raster_and_beats_the_mean_image(trained):
    out, m = trained
    assert m["val_mse"] < 0.6 * m["baseline_mean_image_mse"], m
    assert m["skill_vs_mean_image"] > 0.4
    assert m["val_mse_raw"] < m["baseline_mean_image_mse_raw"]
    assert 0 < m["oracle_chip_mean_colour_mse"] < m["baseline_mean_image_mse"]
    log = (out / "train_log.csv").read_text().splitlines()
    first, last = float(log[1].split(",")[1]), float(log[-1].split(",")[1])
    assert last < 0.6 * first
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["val_mse"] == pytest.approx(m["val_mse"])


def test_model_dir_is_safetensors_and_json(trained):
    out, _ = trained
    assert {p.name for p in out.iterdir()} >= {"model.safetensors", "config.json", "metrics.json"}
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["kind"] == "autoencoder" and cfg["model"]["latent"] == 8 and len(cfg["mean"]) == 2
    assert cfg["source_raster"]["raster_crs"] == "EPSG:3857"
    assert is_autoencoder_dir(out) and not is_autoencoder_dir(out / "nope")
    model, _ = load_autoencoder(out)
    assert torch.allclose(model.mean, torch.tensor(cfg["mean"]))


def test_same_seed_same_weights_other_seed_other_weights(toy, tmp_path):
    # compared tensor by tensor: safetensors writes its header's metadata keys in no fixed order, so the
    # file's bytes (and weights_sha256) can differ between identical runs
    from safetensors.torch import load_file

    cfg = dict(samples=64, epochs=1, **SMALL)
    runs = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        metrics = train_autoencoder(toy, tmp_path / name, AutoencoderConfig(seed=seed, **cfg), device="cpu")
        runs.append((load_file(str(tmp_path / name / "model.safetensors")), metrics["val_mse"]))
    (a, ma), (b, mb), (c, _mc) = runs
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a) and ma == mb
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_train_at_points(toy, tmp_path):
    pts = _lonlat_of_pixels(np.arange(10, 90, 4), np.arange(10, 90, 4))
    src = tmp_path / "pts.parquet"
    write_points(src, pts[:, 0], pts[:, 1])
    m = train_autoencoder(toy, tmp_path / "ae", AutoencoderConfig(epochs=1, **SMALL), points=src, device="cpu")
    assert m["train_chips"] + m["val_chips"] == len(pts)


def test_embed_points(trained, toy, tmp_path):
    out, _ = trained
    pts = _lonlat_of_pixels([20, 40, 60], [30, 50, 70])
    z, err = embed_points_with_autoencoder(out, toy, pts, device="cpu")
    assert z.shape == (3, 8) and z.dtype == np.float32 and err.shape == (3,)
    assert np.isfinite(z).all() and np.isfinite(err).all() and (err >= 0).all()
    z1, _err1 = embed_points_with_autoencoder(out, toy, pts[1:2], device="cpu")
    np.testing.assert_allclose(z1[0], z[1], rtol=1e-5, atol=1e-6)
    # the same points from a file, and as Points
    src = tmp_path / "p.parquet"
    write_points(src, pts[:, 0], pts[:, 1])
    z2, _ = embed_points_with_autoencoder(out, toy, src, device="cpu")
    z3, _ = embed_points_with_autoencoder(out, toy, read_points(src), device="cpu")
    np.testing.assert_allclose(z2, z, atol=1e-6)
    np.testing.assert_allclose(z3, z, atol=1e-6)


class _PathLike:
    """An ``os.PathLike`` that is not a ``pathlib.Path`` (what some libraries hand out for files)."""

    def __init__(self, path):
        self.path = str(path)

    def __fspath__(self):
        return self.path


def test_embed_points_from_any_path_like(trained, toy, tmp_path):
    # any os.PathLike names the points, the raster and the model (the points raised AttributeError: read_points
    # took them for a file object; the raster was looked for under the object's repr)
    out, _ = trained
    pts = _lonlat_of_pixels([20, 40], [30, 50])
    src = tmp_path / "p.parquet"
    write_points(src, pts[:, 0], pts[:, 1])
    z, _ = embed_points_with_autoencoder(out, toy, pts, device="cpu")
    z_path, _ = embed_points_with_autoencoder(_PathLike(out), _PathLike(toy), _PathLike(src), device="cpu")
    z_text, _ = embed_points_with_autoencoder(str(out), str(toy), str(src), device="cpu")
    np.testing.assert_allclose(z_path, z, atol=1e-6)
    np.testing.assert_allclose(z_text, z, atol=1e-6)


def test_edge_chip_error_counts_valid_pixels_only(trained, toy):
    out, _ = trained
    z, err = embed_points_with_autoencoder(out, toy, _lonlat_of_pixels([0], [0]), device="cpu")
    assert np.isfinite(z).all() and np.isfinite(err).all()


def test_outside_points_are_refused(trained, toy):
    out, _ = trained
    with pytest.raises(InputError, match="1 of 2 points lie outside"):
        embed_points_with_autoencoder(out, toy, np.array([[0.0, 0.0], *_lonlat_of_pixels([5], [5])]), device="cpu")


def test_raster_with_too_few_bands_is_refused(trained, tmp_path):
    out, _ = trained
    one = write_raster(tmp_path / "one.tif", toy_image()[:1], "EPSG:3857", TOY_T)
    with pytest.raises(InputError, match="does not fit autoencoder"):
        embed_points_with_autoencoder(out, one, _lonlat_of_pixels([5], [5]), device="cpu")


def test_reconstruction_error_map(trained, toy, tmp_path):
    out, _ = trained
    tif = reconstruction_error_map(out, toy, tmp_path / "err.tif", stride=8, device="cpu")
    with rasterio.open(tif) as ds:
        assert ds.crs.to_epsg() == 3857
        assert (ds.width, ds.height) == (12, 12)
        assert ds.transform == TOY_T @ rasterio.Affine.scale(8)
        assert ds.nodata == -9999 and ds.descriptions == ("reconstruction_mse",)
        assert ds.profile["tiled"] and ds.compression.name.lower() == "deflate"
        grid = ds.read(1)
    assert (grid[grid != -9999] >= 0).all() and (grid != -9999).mean() > 0.9
    # the map's pixel is the error of the chip centred on raster pixel (i*8 + 4, j*8 + 4)
    _, err = embed_points_with_autoencoder(out, toy, _lonlat_of_pixels([2 * 8 + 4], [3 * 8 + 4]), device="cpu")
    assert grid[2, 3] == pytest.approx(err[0], rel=1e-4)


def test_tampered_or_foreign_model_dirs(trained, tmp_path):
    import shutil

    out, _ = trained
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    data = bytearray((bad / "model.safetensors").read_bytes())
    data[-1] ^= 1
    (bad / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_autoencoder(bad)
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"kind": "location_model"}))
    with pytest.raises(ModelError, match="not an autoencoder"):
        load_autoencoder(other)


def test_no_fully_valid_chip(tmp_path):
    data = np.full((1, 20, 20), np.nan, np.float32)
    path = write_raster(tmp_path / "empty.tif", data, "EPSG:3857", TOY_T)
    with pytest.raises(InputError, match="fully valid chips"):
        train_autoencoder(path, tmp_path / "ae", AutoencoderConfig(samples=10, epochs=1, **SMALL), device="cpu")
    assert not (tmp_path / "ae").exists()

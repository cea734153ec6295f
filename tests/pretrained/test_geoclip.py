"""GeoCLIP imported from the geoclip package equals the package's own LocationEncoder (max abs 1e-4).

Two comparisons on the same 10,000 points (uniform on the sphere, plus both poles and λ = ±180°):

* against stored values made by the package's own code (``make_geoclip_reference.py``): the full embedding
  of 256 points, and projections of all 10,000 on 8 directions with entries ±1/512 (a projection differs by
  at most the largest embedding difference, so the 1e-4 bound applies to it as well);
* live, against the installed package's ``LocationEncoder`` on all 10,000 points.

The weights come from the installed package (``pip install --no-deps geoclip==1.3.0``). Without it the
tests are skipped, unless ``GEOENC_REQUIRE_GEOCLIP=1`` (set by ``.ci/run``), where they fail instead.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.pretrained import geoclip_package

DATA = Path(__file__).parent / "data" / "geoclip_reference.npz"
TOL = 1e-4


def _require_geoclip() -> None:
    if geoclip_package.package_dir() is None:
        if os.environ.get("GEOENC_REQUIRE_GEOCLIP", "") not in ("", "0"):
            pytest.fail("GEOENC_REQUIRE_GEOCLIP is set but geoclip is not installed: pip install --no-deps geoclip")
        pytest.skip("geoclip is not installed (pip install --no-deps geoclip==1.3.0)")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def reference():
    with np.load(DATA) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    from geoenc.models import load_model
    from geoenc.pretrained import import_pretrained

    _require_geoclip()
    out = tmp_path_factory.mktemp("geoclip") / "model"
    res = import_pretrained("geoclip", out)
    return res, load_model(out)


@pytest.fixture(scope="module")
def geoenc_embedding(imported, reference):
    _, model = imported
    return model.embed(torch.as_tensor(reference["lonlat"]), batch_size=2048).numpy().astype(np.float64)


def test_reference_file_is_of_these_weights(imported, reference):
    res, _ = imported
    assert reference["lonlat"].shape == (10_000, 2)
    assert str(reference["geoclip_version"]) == geoclip_package.VERSION
    assert res.source_sha256 == str(reference["weights_sha256"]), "installed geoclip weights differ from 1.3.0's"
    assert res.known_release == "geoclip 1.3.0 (PyPI wheel)"


def test_equals_stored_package_output_on_256_points(geoenc_embedding, reference):
    full = reference["full"].astype(np.float64)
    got = geoenc_embedding[: len(full)]
    assert got.shape == (256, 512)
    diff = np.abs(got - full).max()
    assert diff < TOL, f"max abs difference {diff:.3g}"
    # the special points (poles at several longitudes, λ = ±180°) are among them and finite
    assert np.isfinite(got[:16]).all()
    # the embedding is not trivially small: the tolerance is meaningful (GeoCLIP's values reach ~0.09)
    assert np.abs(full).max() > 100 * TOL


def test_equals_stored_package_projections_on_10000_points(geoenc_embedding, reference):
    proj = geoenc_embedding @ reference["directions"]
    diff = np.abs(proj - reference["projections"]).max()
    assert diff < TOL, f"max abs projection difference {diff:.3g}"
    # a wrong input order (lat, lon) would be caught: it moves the projections by far more than the tolerance
    assert np.abs(reference["projections"]).max() > 10 * TOL


def test_equals_the_installed_package_live_on_10000_points(geoenc_embedding, reference):
    LocationEncoder = geoclip_package.location_encoder_class()
    model = LocationEncoder().eval()
    latlon = torch.as_tensor(reference["lonlat"][:, ::-1].copy(), dtype=torch.float32)  # GeoCLIP takes (lat, lon)
    with torch.no_grad():
        theirs = torch.cat([model(latlon[i : i + 2048]) for i in range(0, 10_000, 2048)]).numpy()
    diff = np.abs(geoenc_embedding - theirs).max()
    print(f"geoenc vs geoclip {geoclip_package.installed_version()} on 10,000 points: max abs difference {diff:.3g}")
    assert diff < TOL, f"max abs difference {diff:.3g}"
    # swapping the order is a real error, not within tolerance
    swapped = torch.as_tensor(reference["lonlat"][:, [1, 0]][:, ::-1].copy(), dtype=torch.float32)
    with torch.no_grad():
        wrong = model(swapped[:256]).numpy()
    assert np.abs(geoenc_embedding[:256] - wrong).max() > 100 * TOL


def test_weights_are_the_released_ones_and_read_without_unpickling(imported):
    """The imported directory holds exactly the package's tensors (B matrices included), in safetensors."""
    from safetensors.torch import load_file

    res, _ = imported
    theirs = torch.load(geoclip_package.weights_file(), map_location="cpu", weights_only=True)
    ours = load_file(str(res.path / "model.safetensors"))
    freqs = ours["location.position.freqs"]
    torch.testing.assert_close(freqs, torch.cat([theirs[f"LocEnc{i}.capsule.0.b"] for i in range(3)]).double())
    for i in range(3):
        torch.testing.assert_close(ours[f"location.net.branches.{i}.0.weight"], theirs[f"LocEnc{i}.capsule.1.weight"])
        torch.testing.assert_close(ours[f"location.net.branches.{i}.6.bias"], theirs[f"LocEnc{i}.head.0.bias"])
    digest = hashlib.sha256(geoclip_package.weights_file().read_bytes()).hexdigest()
    assert res.source_sha256 == digest

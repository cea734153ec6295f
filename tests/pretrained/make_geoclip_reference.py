"""Write data/geoclip_reference.npz: the geoclip package's own LocationEncoder output on 10,000 points.

Run from the repository root, with the package installed (``pip install --no-deps geoclip==1.3.0``):

    python tests/pretrained/make_geoclip_reference.py

Points: 9,984 uniform on the sphere (seeded) plus 16 special ones (both poles at several longitudes,
λ = ±180° at several latitudes). Stored: every point; the full 512-d embedding of the first 256 (the 16
special points among them); and for all 10,000 points the projections on 8 fixed directions with entries
±1/512, so that |projection difference| ≤ max |embedding difference| — the 1e-4 criterion carries over.
The package takes (lat, lon): it is called with the columns swapped, in float32 as it runs by default.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.pretrained.geoclip_package import installed_version, location_encoder_class, weights_file  # noqa: E402

N_UNIFORM = 9_984
N_FULL = 256
N_DIRECTIONS = 8
SEED = 20_231_210


def reference_points() -> np.ndarray:
    """(10000, 2) lon/lat degrees: the 16 special points first, then 9,984 uniform on the sphere."""
    special = [(lon, 90.0) for lon in (-180.0, -90.0, 0.0, 45.0, 180.0)]
    special += [(lon, -90.0) for lon in (-180.0, 0.0, 120.0, 180.0)]
    special += [(180.0, lat) for lat in (0.0, 45.0, -60.0)]
    special += [(-180.0, lat) for lat in (0.0, 45.0, -60.0)]
    special += [(0.0, 0.0)]
    rng = np.random.default_rng(SEED)
    lon = rng.uniform(-180.0, 180.0, N_UNIFORM)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, N_UNIFORM)))
    return np.concatenate([np.asarray(special, dtype=np.float64), np.column_stack([lon, lat])])


def directions() -> np.ndarray:
    """(512, 8) fixed directions with entries ±1/512 (seeded)."""
    rng = np.random.default_rng(SEED + 1)
    return rng.choice([-1.0, 1.0], size=(512, N_DIRECTIONS)) / 512.0


def package_embedding(lonlat: np.ndarray) -> np.ndarray:
    model = location_encoder_class()().eval()
    latlon = torch.as_tensor(lonlat[:, ::-1].copy(), dtype=torch.float32)
    with torch.no_grad():
        return torch.cat([model(latlon[i : i + 2048]) for i in range(0, len(latlon), 2048)]).numpy()


def main() -> None:
    torch.set_num_threads(1)
    pts = reference_points()
    emb = package_embedding(pts)
    dirs = directions()
    sha = hashlib.sha256(weights_file().read_bytes()).hexdigest()
    out = HERE / "data" / "geoclip_reference.npz"
    np.savez_compressed(
        out,
        lonlat=pts,
        full=emb[:N_FULL].astype(np.float32),
        directions=dirs,
        projections=(emb.astype(np.float64) @ dirs),
        geoclip_version=np.array(installed_version() or "unknown"),
        weights_sha256=np.array(sha),
    )
    print(f"wrote {out} ({out.stat().st_size} bytes): geoclip {installed_version()}, weights sha256 {sha}")


if __name__ == "__main__":
    main()

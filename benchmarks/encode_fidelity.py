"""How far float32 features are from the float64 formula, per encoder, at its defaults and at its extremes.

    python benchmarks/encode_fidelity.py            # the table of docs/encoders.md, "Precision"

Two figures per encoder, max |float32 − float64| over 1,000 random points (poles and antimeridian excluded):

* float32 coordinates: ``enc(x.float())`` against ``enc(x.float().double())`` — the formula of the same float32
  coordinates (what a training batch gives; the only way an older geoenc could make float32 features);
* float64 coordinates: ``enc(x, dtype=torch.float32)`` against ``enc(x)`` — what ``geoenc.encode`` and
  ``geoenc encode`` give (needs the ``dtype`` argument of this version; "n/a" on older ones).

The extremes are the same as ``EXTREME_PARAMS`` in ``tests/encoders/helpers.py`` (repeated here so that the
script also runs against an older geoenc: ``PYTHONPATH=/path/to/old/tree python benchmarks/encode_fidelity.py``);
rbf is measured on points within a few σ of its anchors, where the kernel changes fastest.
"""

from __future__ import annotations

import inspect

import torch

from geoenc.encoders import encoder_names, get_encoder

EXTREME_PARAMS: dict[str, dict] = {
    "tile": {"cell_size": 0.1, "dim": 1},
    "rbf": {"kernel_size": 1e-6},
    "rff": {"kernel_size": 1e8, "frequency_num": 64},
    "grid": {"min_radius": 1e-7},
    "theory": {"min_radius": 1e-7},
    "nerf": {"frequency_num": 30},
    "sphereC": {"min_radius": 1e-9},
    "sphereC+": {"min_radius": 1e-9},
    "sphereM": {"min_radius": 1e-9},
    "sphereM+": {"min_radius": 1e-9},
    "dfs": {"min_radius": 1e-9, "frequency_num": 8},
    "sh": {"degree": 128},
    "geoclip": {"sigmas": (1e6,), "frequency_num": 64},
}


def sample_points(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    lon = torch.rand(n, generator=g, dtype=torch.float64) * 360.0 - 180.0
    lat = torch.rad2deg(torch.asin(torch.rand(n, generator=g, dtype=torch.float64) * 2.0 - 1.0))
    return torch.stack((lon, lat), 1)


def measure(name: str, params: dict, x: torch.Tensor, new_api: bool) -> tuple[float, float | None]:
    enc = get_encoder(name, **params)
    if enc.needs_fit:
        enc.fit(x, seed=0)
        if params:  # near the anchors
            g = torch.Generator().manual_seed(1)
            x = enc.anchors.repeat(3, 1) + torch.randn(3 * enc.num_anchors, 2, generator=g, dtype=torch.float64) * 2e-6
    with torch.no_grad():
        f32_coords = (enc(x.float()).double() - enc(x.float().double())).abs().max().item()
        f64_coords = (enc(x, dtype=torch.float32).double() - enc(x)).abs().max().item() if new_api else None
    return f32_coords, f64_coords


def main() -> int:
    x = sample_points(1000, seed=3)
    new_api = "dtype" in inspect.signature(get_encoder("xyz").forward).parameters
    print("| encoder | params | float32 coordinates | float64 coordinates → float32 |")
    print("|---|---|---:|---:|")
    for name in encoder_names():
        for params in [{}] + ([EXTREME_PARAMS[name]] if name in EXTREME_PARAMS else []):
            try:
                a, b = measure(name, params, x, new_api)
            except Exception as e:  # noqa: BLE001 - an older version refusing a parameter value
                print(f"| {name} | {params} | refused: {e} | |")
                continue
            p = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
            print(f"| {name} | {p} | {a:.2e} | {'n/a' if b is None else f'{b:.2e}'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

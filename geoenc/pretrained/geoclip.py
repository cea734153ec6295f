"""GeoCLIP's released location encoder → encoder ``geoclip`` + net ``geoclip_mlp``.

The ``geoclip`` package (PyPI, MIT) ships the weights as ``geoclip/model/weights/location_encoder_weights.pth``,
a plain state dict. Per scale i (σ = 2⁰, 2⁴, 2⁸ for i = 0, 1, 2):

* ``LocEnc{i}.capsule.0.b`` (256, 2): the random Fourier matrix B_σ, applied to the Equal Earth (x, y) as
  ``[cos(2π e Bᵀ), sin(2π e Bᵀ)]`` — geoenc's ``geoclip`` encoder computes the same per scale, in the same
  column order (256 cosines, then 256 sines), so the three B matrices go into its ``freqs`` buffer as they are;
* ``LocEnc{i}.capsule.{1,3,5}`` Linear(512→1024), (1024→1024), (1024→1024), each followed by ReLU;
* ``LocEnc{i}.head.0`` Linear(1024→512); the three heads' outputs are summed.

GeoCLIP takes (lat, lon); geoenc takes (lon, lat) and its Equal Earth projection reads them in that order,
so nothing is swapped in the weights — the order only matters when comparing with the package directly.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch

from geoenc.errors import InputError
from geoenc.pretrained.foreign import StateReader, copy_into, load_checkpoint, wrong_model

WHAT = "GeoCLIP location-encoder weights file"
#: where the weights sit inside the installed package and inside a checkout of VicenteVivan/geo-clip
PACKAGE_FILE = Path("model") / "weights" / "location_encoder_weights.pth"
FILE_NAME = PACKAGE_FILE.name
#: sha256 of the file in the geoclip 1.3.0 wheel (its RECORD says the same, in base64)
KNOWN_SHA256 = {"94b80ae3af89fca78539e129dd2929d321247f5ceeeb0a31bc2c31041a253394": "geoclip 1.3.0 (PyPI wheel)"}
SIGMAS = (1.0, 16.0, 256.0)
CONVERT_HINT = (
    "python -c \"import torch; torch.save({k: v for k, v in torch.load('IN', weights_only=False).items()}, 'OUT')\" "
    "and pass OUT"
)


def locate(source: str | Path | None) -> Path:
    """The weights file: ``source`` (the file, or a folder holding it), else the installed ``geoclip`` package."""
    if source is not None:
        p = Path(source)
        if p.is_dir():
            for cand in (p / FILE_NAME, p / PACKAGE_FILE, p / "geoclip" / PACKAGE_FILE):
                if cand.is_file():
                    return cand
            raise InputError(f"folder {p} holds no {FILE_NAME}: pass the weights file itself with --from")
        return p
    try:
        spec = importlib.util.find_spec("geoclip")  # finds the package without importing it (its imports are heavy)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "the geoclip package is not installed: `pip install --no-deps geoclip==1.3.0` (its weights are in "
            f"the wheel), or pass the weights file with --from PATH/{FILE_NAME}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGE_FILE
    if not path.is_file():
        raise InputError(
            f"the installed geoclip package has no {PACKAGE_FILE}: reinstall it "
            "(`pip install --no-deps --force-reinstall geoclip==1.3.0`) or pass --from PATH"
        )
    return path


def convert(path: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Read the GeoCLIP state dict at ``path`` → a geoenc LocationEncoder and details for provenance."""
    from geoenc.encoders import get_encoder
    from geoenc.models.location import LocationEncoder
    from geoenc.nets import get_net

    state = load_checkpoint(path, WHAT, CONVERT_HINT)
    if not isinstance(state, dict) or not any(str(k).startswith("LocEnc0.") for k in state):
        raise wrong_model(path, WHAT, state, "geoclip", "it has no LocEnc0.* weights")
    reader = StateReader(state, path, WHAT)
    n_scales = len({str(k).split(".")[0] for k in state if str(k).startswith("LocEnc")})
    if n_scales != len(SIGMAS):
        raise wrong_model(
            path, WHAT, state, "geoclip", f"it has {n_scales} scale branches where GeoCLIP has {len(SIGMAS)}"
        )
    b0 = reader.take("LocEnc0.capsule.0.b")
    if b0.ndim != 2 or b0.shape[1] != 2:
        raise wrong_model(path, WHAT, state, "geoclip", f"LocEnc0.capsule.0.b has shape {tuple(b0.shape)}, not (W, 2)")
    width = int(b0.shape[0])
    first = reader.take("LocEnc0.capsule.1.weight")
    hidden = int(first.shape[0])
    layers = 0
    while reader.has(f"LocEnc0.capsule.{2 * layers + 1}.weight"):
        layers += 1
    out = int(reader.take("LocEnc0.head.0.weight").shape[0])

    position = get_encoder("geoclip", frequency_num=width, sigmas=SIGMAS, seed=0)
    net = get_net("geoclip_mlp", position.embedding_dim, branches=n_scales, hidden=hidden, layers=layers, out=out)
    values: dict[str, torch.Tensor] = {}
    freqs = []
    for i, sigma in enumerate(SIGMAS):
        b = reader.take(f"LocEnc{i}.capsule.0.b", (width, 2)).to(torch.float64)
        # GeoCLIP does not store σ: B's spread tells the scales apart (256 N(0, σ²) draws put the sample
        # standard deviation within a few percent of σ), so a file of other scales is not taken for GeoCLIP's
        spread = float(b.std())
        if not (sigma / 2 < spread < sigma * 2):
            raise wrong_model(
                path,
                WHAT,
                state,
                "geoclip",
                f"the random Fourier matrix of branch {i} has spread {spread:.3g}, where GeoCLIP's σ is {sigma:g}",
            )
        freqs.append(b)
        d_in = 2 * width
        for j in range(layers):
            src = f"LocEnc{i}.capsule.{2 * j + 1}"
            shape_in = d_in if j == 0 else hidden
            values[f"branches.{i}.{2 * j}.weight"] = reader.take(f"{src}.weight", (hidden, shape_in))
            values[f"branches.{i}.{2 * j}.bias"] = reader.take(f"{src}.bias", (hidden,))
        values[f"branches.{i}.{2 * layers}.weight"] = reader.take(f"LocEnc{i}.head.0.weight", (out, hidden))
        values[f"branches.{i}.{2 * layers}.bias"] = reader.take(f"LocEnc{i}.head.0.bias", (out,))
    left = reader.leftover()
    if left:
        raise wrong_model(path, WHAT, state, "geoclip", f"it has weights GeoCLIP's location encoder lacks ({left[0]})")
    copy_into(position, {"freqs": torch.cat(freqs)}, path)
    copy_into(net, values, path)
    details = {"scales": n_scales, "sigmas": list(SIGMAS), "frequencies_per_scale": width, "hidden": hidden}
    return LocationEncoder(position, net), details

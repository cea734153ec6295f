"""GeoCLIP's location code (Vivanco, Nayak & Shah, NeurIPS 2023): Equal Earth projection, then
Gaussian random Fourier features at several scales."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from geoenc.encoders.base import MAX_SEED, PositionEncoder, check_int, check_range, to_radians
from geoenc.encoders.phase import LinearPhase
from geoenc.encoders.registry import register
from geoenc.errors import ParameterError

# Equal Earth projection (Šavrič, Patterson & Jenny 2018), unit sphere.
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3.0) / 2.0
#: GeoCLIP's scale factor: (x, y) · SF / 180 puts x in [−1, 1]
_SF = 66.50336
#: |y| at the poles: θ = asin(√3/2) = π/3 (a hair more, so that the bound holds after rounding)
_T = math.pi / 3
_E_Y = _T * (_A1 + _A2 * _T**2 + _A3 * _T**6 + _A4 * _T**8) * _SF / 180.0 + 1e-9


def equal_earth(lonlat: Tensor) -> Tensor:
    """Equal Earth (x, y) on the unit sphere, scaled by 66.50336/180 as in GeoCLIP: x ∈ [−1, 1]."""
    lon, lat = to_radians(lonlat)
    theta = torch.asin(_M * torch.sin(lat))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    denom = 3.0 * (9.0 * _A4 * t6 * t2 + 7.0 * _A3 * t6 + 3.0 * _A2 * t2 + _A1)
    x = 2.0 * math.sqrt(3.0) * lon * torch.cos(theta) / denom
    y = theta * (_A1 + _A2 * t2 + _A3 * t6 + _A4 * t6 * t2)
    return torch.stack((x, y), dim=-1) * (_SF / 180.0)


@register("geoclip")
class GeoCLIP(PositionEncoder):
    r"""Equal Earth projection ``e``, then per scale σ: ``[cos(2π B_σ e), sin(2π B_σ e)]``.

    ``B_σ`` is a (W, 2) matrix with N(0, σ²) entries (W = ``frequency_num``), drawn from ``seed``
    and kept as a buffer (saved with a model, so a loaded model uses its stored B — e.g. GeoCLIP's released
    matrices after ``geoenc pretrained import geoclip`` — whatever ``seed`` says). Defaults are GeoCLIP's:
    σ = 2^0, 2^4, 2^8 and W = 256, so 2·W·(number of scales) = 1,536 features, scale by scale. GeoCLIP sends
    each scale through its own MLP and sums the results (net ``geoclip_mlp`` with ``branches`` = number of
    sigmas); the default net mixes the concatenated scales instead.
    """

    dim_formula = "2·W·len(sigmas)"
    summary = "GeoCLIP: Equal Earth projection + multi-scale Gaussian random Fourier features"
    param_docs: ClassVar[dict[str, str]] = {
        "frequency_num": "random frequencies W per scale",
        "sigmas": "standard deviations of the frequencies, one per scale (comma separated)",
        "seed": "seed of the random frequencies",
    }
    freqs: Tensor  # buffer (K·W, 2)

    def __init__(
        self, *, frequency_num: int = 256, sigmas: tuple[float, ...] = (1.0, 16.0, 256.0), seed: int = 0
    ) -> None:
        super().__init__()
        check_int("frequency_num", frequency_num, 1, 100_000)
        check_int("seed", seed, 0, MAX_SEED)
        sigmas = tuple(float(s) for s in sigmas)
        if not 1 <= len(sigmas) <= 16:
            raise ParameterError(f"parameter sigmas={sigmas!r} is not valid: give 1 to 16 values")
        for sg in sigmas:
            check_range("sigmas", sg, 0.0, 1e6, lo_open=True)
        gen = torch.Generator().manual_seed(seed)
        freqs = torch.cat([torch.randn(frequency_num, 2, generator=gen, dtype=torch.float64) * sg for sg in sigmas])
        self.register_buffer("freqs", freqs)  # (K·W, 2)
        self.width = frequency_num
        self.n_scales = len(sigmas)
        self._remember(frequency_num=frequency_num, sigmas=sigmas, seed=seed)

    @property
    def embedding_dim(self) -> int:
        return 2 * self.width * self.n_scales

    def _table(self) -> LinearPhase:
        """Exact phases ``B e`` (turns), columns in output order: per scale W cosines then W sines (−¼ turn)."""

        def build() -> LinearPhase:
            w, k = self.width, self.n_scales
            freqs = self.freqs.double().cpu().view(k, 1, w, 2).expand(k, 2, w, 2).reshape(-1, 2).T  # (2, 2·K·W)
            shift = torch.tensor([0.0, -0.25], dtype=torch.float64).repeat_interleave(w).repeat(k)
            return LinearPhase(freqs, lo=(-1.0, -_E_Y), hi=(1.0, _E_Y), consts=shift[None], bags=[((0, 1), 0)])

        return self._cached("phase_table", build, self.freqs)

    def _prepare(self, lonlat: Tensor, dtype: torch.dtype) -> tuple[Tensor, ...]:
        e = equal_earth(lonlat.double())
        if dtype == torch.float64:
            return (e,)
        return self._table().split(e, dtype)

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        table = self._table()
        ang = table.phases64(prep[0]) if len(prep) == 1 else table.from_split(prep[0], prep[1], dtype)
        return torch.cos(ang) if out is None else torch.cos(ang, out=out)

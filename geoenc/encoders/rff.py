"""Random Fourier features (Rahimi & Recht, NeurIPS 2007) on min-max scaled lon/lat."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from geoenc.encoders.base import MAX_SEED, PositionEncoder, check_int, check_range
from geoenc.encoders.phase import LinearPhase
from geoenc.encoders.registry import register
from geoenc.errors import ParameterError


@register("rff")
class RFF(PositionEncoder):
    r"""``√(2/W) · cos(ωᵀ x̃ + b)`` with ``ω ~ N(0, κ I)``, ``b ~ U(0, 2π)``, ``W`` features.

    ``x̃`` is (λ, φ) min-max scaled to [−1, 1] by ``extent = (lon_min, lon_max, lat_min, lat_max)``
    (degrees; default the whole globe). ``κ`` (``kernel_size``) is the variance of ω, so the kernel
    is Gaussian with length scale ``1/√κ`` in scaled units. ω and b are drawn from ``seed`` and
    kept as buffers (saved with the model).
    """

    dim_formula = "frequency_num"
    summary = "random Fourier features of min-max scaled lon/lat (Rahimi & Recht 2007)"
    param_docs: ClassVar[dict[str, str]] = {
        "frequency_num": "number of random features W (= output dimension)",
        "kernel_size": "variance kappa of the random frequencies (scaled units)",
        "extent": "lon_min,lon_max,lat_min,lat_max in degrees used to scale inputs to [-1,1]",
        "seed": "seed of omega and b",
    }
    # buffers (float64)
    omega: Tensor  # (W, 2)
    phase: Tensor  # (W,)
    scale: Tensor  # (2,)
    centre: Tensor  # (2,)

    def __init__(
        self,
        *,
        frequency_num: int = 256,
        kernel_size: float = 64.0,
        extent: tuple[float, ...] = (-180.0, 180.0, -90.0, 90.0),
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_int("frequency_num", frequency_num, 1, 100_000)
        check_range("kernel_size", kernel_size, 0.0, 1e8, lo_open=True)
        check_int("seed", seed, 0, MAX_SEED)
        extent = tuple(float(e) for e in extent)
        if (
            len(extent) != 4
            or not all(math.isfinite(e) for e in extent)
            or extent[0] >= extent[1]
            or extent[2] >= extent[3]
        ):
            raise ParameterError(
                f"parameter extent={extent!r} is not valid: give lon_min,lon_max,lat_min,lat_max with min < max"
            )
        self.width = frequency_num
        gen = torch.Generator().manual_seed(seed)
        omega = torch.randn(frequency_num, 2, generator=gen, dtype=torch.float64) * math.sqrt(kernel_size)
        phase = torch.rand(frequency_num, generator=gen, dtype=torch.float64) * (2 * math.pi)
        lo = torch.tensor([extent[0], extent[2]], dtype=torch.float64)
        hi = torch.tensor([extent[1], extent[3]], dtype=torch.float64)
        # x̃ = (x − centre) · 2/(hi − lo)
        scale = 2.0 / (hi - lo)
        centre = (hi + lo) / 2.0
        self.register_buffer("omega", omega)
        self.register_buffer("phase", phase)
        self.register_buffer("scale", scale)
        self.register_buffer("centre", centre)
        self._remember(frequency_num=frequency_num, kernel_size=float(kernel_size), extent=extent, seed=seed)

    @property
    def embedding_dim(self) -> int:
        return self.width

    def _scaled(self, lonlat: Tensor) -> Tensor:
        """``x̃``: ``(N, 2)`` float64 (a transposed view), the coordinates min-max scaled by the extent (−1…1 in it)."""
        c = lonlat.t().double()  # (2, N): long vectorised loops
        return ((c - self.centre.double()[:, None]) * self.scale.double()[:, None]).t()

    def _table(self) -> LinearPhase:
        """Exact phases ``ωᵀx̃ + b`` (in turns: ω/2π, b/2π), for x̃ over the whole globe; rebuilt with the buffers."""

        def build() -> LinearPhase:
            centre, scale = self.centre.double().cpu(), self.scale.double().cpu()
            lo = (torch.tensor([-180.0, -90.0], dtype=torch.float64) - centre) * scale
            hi = (torch.tensor([180.0, 90.0], dtype=torch.float64) - centre) * scale
            return LinearPhase(
                self.omega.double().cpu().T / (2 * math.pi),
                lo=lo.tolist(),
                hi=hi.tolist(),
                consts=(self.phase.double().cpu() / (2 * math.pi))[None],
                bags=[((0, 1), 0)],
            )

        return self._cached("phase_table", build, self.omega, self.phase, self.centre, self.scale)

    def _prepare(self, lonlat: Tensor, dtype: torch.dtype) -> tuple[Tensor, ...]:
        xt = self._scaled(lonlat)
        if dtype == torch.float64:
            return (xt,)
        return self._table().split(xt, dtype)

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        table = self._table()
        ang = table.phases64(prep[0]) if len(prep) == 1 else table.from_split(prep[0], prep[1], dtype)
        amp = math.sqrt(2.0 / self.width)
        if out is None:
            return torch.cos(ang) * amp
        return torch.cos(ang, out=out).mul_(amp)

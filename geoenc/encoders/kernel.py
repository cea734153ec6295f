"""RBF: Gaussian kernels around anchor points sampled from the training locations."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from geoenc.encoders.base import MAX_SEED, PositionEncoder, as_lonlat, check_int, check_range
from geoenc.encoders.registry import register
from geoenc.errors import GeoencError

_MIN_EXPONENT = -80.0
#: smallest allowed σ (degrees, ≈ 11 cm): float64 coordinates then still resolve the kernel to ~1e-7
MIN_KERNEL_SIZE = 1e-6


def split_float(x: Tensor) -> tuple[Tensor, Tensor]:
    """``x`` (float64) as ``hi + lo``, two float32 tensors: ``hi = float32(x)``, ``lo = float32(x − hi)``."""
    hi = x.to(torch.float32)
    return hi, (x - hi.to(torch.float64)).to(torch.float32)


@register("rbf")
class RBF(PositionEncoder):
    r"""``exp(−‖x − a_j‖² / (2σ²))`` for ``M`` anchors ``a_j``; ``x = (λ, φ)`` in degrees.

    The anchors are drawn (seeded, without replacement when there are enough points) from the
    locations given to :meth:`fit`; they are a buffer, so they are saved with the model.
    ``geoenc encode`` without a trained model fits the anchors on the input points themselves.
    Distances are plain Euclidean in degrees, as in TorchSpatial (so not periodic in longitude).
    Defaults ``M = 200``, ``σ = 1°`` are TorchSpatial's.
    """

    dim_formula = "num_anchors"
    summary = "Gaussian kernels (sigma in degrees) around anchors sampled from the data; needs fit"
    needs_fit = True
    param_docs: ClassVar[dict[str, str]] = {
        "num_anchors": "number of anchors M (= output dimension)",
        "kernel_size": "kernel width sigma in degrees",
        "seed": "seed of the anchor sampling (default: the run's --seed)",
    }
    # buffers
    anchors: Tensor  # (M, 2) lon/lat degrees, float64
    fitted: Tensor  # () bool

    def __init__(self, *, num_anchors: int = 200, kernel_size: float = 1.0, seed: int | None = None) -> None:
        super().__init__()
        check_int("num_anchors", num_anchors, 1, 100_000)
        check_range("kernel_size", kernel_size, MIN_KERNEL_SIZE, 1000.0)
        if seed is not None:
            check_int("seed", seed, 0, MAX_SEED)
        self.num_anchors = num_anchors
        self.kernel_size = float(kernel_size)
        self.seed = seed
        self.register_buffer("anchors", torch.zeros(num_anchors, 2, dtype=torch.float64))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))
        self._remember(num_anchors=num_anchors, kernel_size=self.kernel_size, seed=seed)

    @property
    def embedding_dim(self) -> int:
        return self.num_anchors

    def fit(self, lonlat: Tensor, seed: int | None = None) -> RBF:
        """Sample the anchors from ``lonlat`` (without replacement if there are at least M points).

        Seeded by the ``seed`` parameter when it was given, else by ``seed`` here (the run's seed).
        """
        lonlat = as_lonlat(lonlat).detach()
        n = lonlat.shape[0]
        if n == 0:
            raise GeoencError("rbf: cannot fit anchors on zero points")
        # the encoder's own seed parameter wins; else the run's seed (so provenance names the seed really used)
        used = self.seed if self.seed is not None else int(seed or 0)
        self._remember(seed=used)
        gen = torch.Generator().manual_seed(used)
        if n >= self.num_anchors:
            idx = torch.randperm(n, generator=gen)[: self.num_anchors]
        else:
            idx = torch.randint(0, n, (self.num_anchors,), generator=gen)
        self.anchors.copy_(lonlat.cpu().double()[idx].to(self.anchors.device))
        self.fitted.fill_(True)
        return self

    def _prepare(self, lonlat: Tensor, dtype: torch.dtype) -> tuple[Tensor, ...]:
        if not bool(self.fitted):
            raise GeoencError("rbf has no anchors yet: call fit(lonlat) on training locations first")
        if dtype == torch.float64:
            return (lonlat.double(),)
        # float32: coordinates as float32 pairs hi + lo, so that x − a is computed from the float64 values (plain
        # float32 coordinates carry up to 1e-5° of rounding, which σ = 1° turns into 6e-6 of output error)
        hi, lo = split_float(lonlat.double())
        return hi, lo

    def _anchor_parts(self, device: torch.device) -> tuple[Tensor, Tensor]:
        def build() -> tuple[Tensor, Tensor]:
            hi, lo = split_float(self.anchors)
            return hi.to(device).T.contiguous(), lo.to(device).T.contiguous()

        return self._cached(("anchors", device), build, self.anchors)

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        if len(prep) == 1:  # float64
            x, a = prep[0], self.anchors.to(prep[0].device)
            dlon = x[:, 0:1] - a[:, 0]  # (N, M)
            dlat = x[:, 1:2] - a[:, 1]
        else:
            hi, lo = prep
            a_hi, a_lo = self._anchor_parts(hi.device)  # (2, M) each
            dlon = (hi[:, 0:1] - a_hi[0]).add_(lo[:, 0:1] - a_lo[0])
            dlat = (hi[:, 1:2] - a_hi[1]).add_(lo[:, 1:2] - a_lo[1])
        arg = torch.addcmul(dlat * dlat, dlon, dlon).mul_(-0.5 / self.kernel_size**2)
        # exp(−80) ≈ 2e−35: floor the exponent there so far anchors never produce subnormal floats,
        # which are an order of magnitude slower on the CPU (the features differ by < 1e−34)
        arg = arg.clamp_(min=_MIN_EXPONENT)
        return torch.exp(arg) if out is None else torch.exp(arg, out=out)

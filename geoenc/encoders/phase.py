"""Exact phases for the sinusoidal encoders: ``2π·frac(Σ_j c_j·w_j + b)`` without float32 rounding.

Every sinusoidal encoder evaluates ``sin``/``cos`` of phases that are linear in a few per-point
coordinates ``c_j`` (latitude, longitude, a projection, a unit-sphere coordinate) with per-column
frequencies ``w_j`` (turns per unit) and a per-column constant ``b`` (turns): ``t = Σ_j c_j w_j + b``.
At fine scales ``t`` reaches 10⁵–10⁹ turns; rounded to float32 it keeps no fractional digit, so the
finest columns become noise. Computing ``t`` in float64 and reducing it modulo one turn is exact but
costs four float64 passes per phase.

This module does the reduction with a table instead (an exact range reduction). Each coordinate is
quantised on a grid of power-of-two step ``Δ``: ``c = lo + K·Δ + r`` with an integer ``K`` and
``|r| ≤ Δ/2``, all exact in float64. ``K`` is split into base-2^b digits ``d_l``. Then

    t = Σ_l w·d_l·2^(b·l)·Δ  +  w·lo  +  r·w  (+ b)

and the first terms are looked up, already reduced modulo one turn, in tables computed once in float64
(``2π·frac(·)``, stored in the output dtype). One ``torch.nn.functional.embedding_bag`` call sums the
looked-up rows and ``r·(2π w)`` per point: the phase arrives reduced to a few turns, with the error of a
handful of float32 roundings (≲ 10⁻⁶ rad) at any scale, instead of ``|t|·2⁻²⁴``. ``Δ`` is chosen so
that ``|r·w| ≤ ½`` turn. Gradients flow to the coordinates through ``r`` (the embedding-bag weights).

The float64 path (:meth:`LinearPhase.phases64`) evaluates the same phase directly, ``2π·frac(t)`` with
``t`` in float64; it is the reference the float32 path is tested against.

Coordinates outside the range a table was built for are clamped to its grid, and the residual ``r``
absorbs the rest: the result stays correct, only its float32 precision degrades with ``|r·w|``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

TWO_PI = 2.0 * math.pi
#: bound on |w|·Δ (turns): the residual term r·w·Δ (|r| ≤ ½) stays within ½ turn, its float32 error below 6e-7 rad
_RESIDUAL_TURNS = 1.0


def reduce_turns(t: Tensor) -> Tensor:
    """``2π·(t − round(t))``: a phase in turns reduced exactly to [−π, π] radians (float64 in, float64 out)."""
    return (t - torch.round(t)) * TWO_PI


@dataclass(frozen=True)
class _Plan:
    step_exp: tuple[int, ...]  # Δ_j = 2^step_exp[j]
    top: tuple[int, ...]  # largest K_j on the grid
    levels: int  # digits per coordinate
    bits: int


class LinearPhase:
    """Phases ``t[n, g, k] = Σ_{j ∈ bag g} c[n, j]·freqs[j, k] + consts[const_g, k]`` (turns), reduced.

    Args:
        freqs: ``(J, K)`` float64 frequencies, turns per coordinate unit.
        lo, hi: ``J`` ranges the coordinates take (degrees, unit-sphere units …); exact inside them.
        consts: ``(C, K)`` float64 constant rows (turns): shifts such as −¼ (cos(θ − π/2) = sin θ), biases.
        bags: one ``(coords, const_row)`` per output group: the coordinates summed in it and its constant.
            Every bag sums the same number of coordinates.
        max_bits: at most 2^max_bits table rows per level (levels are added as the scales need); default: about
            32 K entries per level (small tables stay in cache, which matters more than one index less).

    Output of both paths: ``(N, G·K)`` phases in radians, group-major (``G = len(bags)``).
    """

    def __init__(
        self,
        freqs: Tensor,
        lo: Sequence[float],
        hi: Sequence[float],
        consts: Tensor,
        bags: Sequence[tuple[Sequence[int], int]],
        *,
        max_bits: int | None = None,
    ) -> None:
        freqs = freqs.detach().to(torch.float64).cpu()
        consts = consts.detach().to(torch.float64).cpu()
        n_coords, width = freqs.shape
        if len(lo) != n_coords or len(hi) != n_coords or consts.shape[1] != width:
            raise ValueError("LinearPhase: freqs, lo, hi and consts do not agree")
        sizes = {len(c) for c, _ in bags}
        if len(sizes) != 1:
            raise ValueError("LinearPhase: every bag must sum the same number of coordinates")
        self.freqs, self.consts, self.width = freqs, consts, width
        self.lo = torch.tensor([float(v) for v in lo], dtype=torch.float64)
        self.hi = torch.tensor([float(v) for v in hi], dtype=torch.float64)
        self.bag_coords = torch.tensor([list(c) for c, _ in bags], dtype=torch.long)  # (G, nc)
        self.bag_consts = torch.tensor([c for _, c in bags], dtype=torch.long)  # (G,)
        if max_bits is None:  # about 32 K table entries per level: narrow tables take more rows per level
            max_bits = max(3, min(10, int(math.log2(32768 / max(1, width)))))
        self.plan = self._plan(max_bits)
        self._table64 = self._build_table()
        self._cache: dict[tuple[torch.device, torch.dtype], tuple[Tensor, ...]] = {}

    # -- construction ---------------------------------------------------------------------------
    def _plan(self, max_bits: int) -> _Plan:
        exps, tops = [], []
        for j in range(self.freqs.shape[0]):
            m = float(self.freqs[j].abs().max())
            span = float(self.hi[j] - self.lo[j])
            e = 0 if m == 0.0 or span <= 0.0 else math.floor(math.log2(_RESIDUAL_TURNS / m))
            exps.append(e)
            tops.append(max(1, math.ceil(span / 2.0**e)) if span > 0 else 1)
        need = max(t.bit_length() for t in tops)
        levels = max(1, math.ceil(need / max_bits))
        return _Plan(tuple(exps), tuple(tops), levels, math.ceil(need / levels))

    def _build_table(self) -> Tensor:
        """Rows: per coordinate its lower levels and its top level; per bag the top level of its first coordinate
        with the bag's constant folded in; then one residual row per coordinate (``2π·w_j``, not reduced)."""
        p = self.plan
        n_coords = self.freqs.shape[0]
        rows: list[Tensor] = []
        at = 0

        def add(block: Tensor) -> int:
            nonlocal at
            rows.append(block)
            at += block.shape[0]
            return at - block.shape[0]

        def level(j: int, lvl: int, const: Tensor | None = None) -> Tensor:
            shift = p.bits * lvl
            n = (1 << p.bits) if lvl < p.levels - 1 else (p.top[j] >> shift) + 1
            d = torch.arange(n, dtype=torch.float64)
            # d·2^(bits·l)·Δ is exact; one float64 rounding in the product with w
            val = self.freqs[j][None, :] * (d[:, None] * 2.0 ** (shift + p.step_exp[j]))
            if lvl == p.levels - 1:
                val = val + self.freqs[j][None, :] * float(self.lo[j])
            if const is not None:
                val = val + const[None, :]
            return reduce_turns(val)

        offsets = [[add(level(j, lvl)) for lvl in range(p.levels)] for j in range(n_coords)]
        bag_top = [
            add(level(int(c[0]), p.levels - 1, self.consts[int(k)]))
            for c, k in zip(self.bag_coords, self.bag_consts, strict=True)
        ]
        resid = [add((self.freqs[j] * TWO_PI)[None, :]) for j in range(n_coords)]
        # per bag and coordinate slot: the index offset of each level, the first slot's top level being the bag's own
        g, nc = self.bag_coords.shape
        bag_offsets = torch.zeros(g, nc, p.levels + 1, dtype=torch.long)
        for b in range(g):
            for i in range(nc):
                j = int(self.bag_coords[b, i])
                bag_offsets[b, i, : p.levels] = torch.tensor(offsets[j])
                bag_offsets[b, i, p.levels] = resid[j]
            bag_offsets[b, 0, p.levels - 1] = bag_top[b]
        self._bag_offsets = bag_offsets
        return torch.cat(rows)

    # -- per device/dtype constants ---------------------------------------------------------------
    def _constants(self, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, ...]:
        key = (device, dtype)
        hit = self._cache.get(key)
        if hit is None:
            p = self.plan
            step = torch.tensor([2.0**e for e in p.step_exp], dtype=torch.float64)
            # the bag slots (bag g, coordinate slot i, its levels then its residual). With q_l = ⌊K_j / 2^(bits·l)⌋
            # (q_0 = K_j), digit l = q_l − 2^bits·q_(l+1); the index of slot (g, i, l) is that digit plus the slot's
            # table offset, so all indices are one product [q, 1] @ idx_mat, and all weights [r, 1] @ wts_mat.
            g, nc = self.bag_coords.shape
            per = p.levels + 1
            n_coords = self.freqs.shape[0]
            idx_mat = torch.zeros(p.levels * n_coords + 1, g * nc * per, dtype=torch.float64)
            wts_mat = torch.zeros(n_coords + 1, g * nc * per, dtype=torch.float64)
            for b in range(g):
                for i in range(nc):
                    j = int(self.bag_coords[b, i])
                    col = (b * nc + i) * per
                    for lvl in range(p.levels):
                        idx_mat[lvl * n_coords + j, col + lvl] += 1.0
                        if lvl + 1 < p.levels:
                            idx_mat[(lvl + 1) * n_coords + j, col + lvl] -= float(1 << p.bits)
                        wts_mat[n_coords, col + lvl] = 1.0
                    wts_mat[j, col + p.levels] = step[j]
            idx_mat[-1] = self._bag_offsets.reshape(-1).to(torch.float64)
            hit = (
                self._table64.to(device=device, dtype=dtype),
                (-self.lo / step)[:, None].to(device),
                (1.0 / step)[:, None].to(device),
                torch.tensor(p.top, dtype=torch.float64, device=device)[:, None],
                idx_mat.to(device),
                wts_mat.to(device),
                self.freqs.to(device),
                self.consts.to(device),
                torch.zeros((), dtype=torch.float64, device=device),
            )
            self._cache[key] = hit
        return hit

    # -- the two paths ------------------------------------------------------------------------------
    def split(self, coords: Tensor, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        """Per-point grid digits and residuals of ``coords`` ``(N, J)``, the input of :meth:`from_split`.

        Returns ``q1``: ``(N, L·J + 1)`` the integers ``⌊K_j / 2^(bits·l)⌋`` then a 1, and ``r1``: ``(N, J + 1)`` the
        residuals ``(c_j − lo_j)/Δ_j − K_j`` then a 1, both float64. Both are transposed views (points along the
        contiguous axis, so every step is a long vectorised loop) that the matrix products of :meth:`from_split`
        read as they are; ``coords`` may be such a view too (no copy then).
        ``coords`` should be float64 (float32 is upcast: then the phase is exact for the float32 value).
        """
        shift, inv_step, top = self._constants(coords.device, dtype)[1:4]
        c = coords.t().to(torch.float64, memory_format=torch.contiguous_format)  # (J, N)
        n_coords, n = c.shape
        levels = self.plan.levels
        q1 = torch.empty(levels * n_coords + 1, n, dtype=torch.float64, device=c.device)
        r1 = torch.empty(n_coords + 1, n, dtype=torch.float64, device=c.device)
        v = torch.addcmul(shift, c, inv_step)  # (c − lo)/Δ: an exact scaling by a power of two, one rounding
        zero = self._constants(c.device, dtype)[8]
        k = torch.round(torch.clamp(v.detach(), min=zero, max=top), out=q1[:n_coords]).nan_to_num_(0.0)
        for lvl in range(1, levels):
            torch.floor(k * 2.0 ** (-self.plan.bits * lvl), out=q1[lvl * n_coords : (lvl + 1) * n_coords])
        q1[-1] = 1.0
        r1[-1] = 1.0
        if v.requires_grad:  # out= does not record gradients: the residual out of place (the gradient flows here)
            r1 = torch.cat((v - k, r1[-1:]))
        else:
            torch.sub(v, k, out=r1[:n_coords])  # exact in float64
        return q1.t(), r1.t()

    def from_split(self, q1: Tensor, r1: Tensor, dtype: torch.dtype, groups: slice = slice(None)) -> Tensor:
        """Reduced phases (radians, ``(N, g·K)`` in ``dtype``) of the bags ``groups``, from :meth:`split`.

        The bag layout has tiny inner dimensions, where elementwise kernels are slow, so indices and weights come
        from two small float64 matrix products (exact: integers, and one non-zero term per weight; float64 also
        keeps them exact where float32 products may run in TF32 or bfloat16); one embedding bag then sums the
        table rows and ``r·2πwΔ``.
        """
        table, _, _, _, idx_mat, wts_mat = self._constants(q1.device, dtype)[:6]
        n_slots = idx_mat.shape[1] // self.bag_coords.shape[0]
        cols = slice(
            None if groups.start is None else groups.start * n_slots,
            None if groups.stop is None else groups.stop * n_slots,
        )
        idx = torch.mm(q1, idx_mat[:, cols]).to(torch.int32)
        wts = torch.mm(r1, wts_mat[:, cols]).to(dtype)
        out = F.embedding_bag(idx.view(-1, n_slots), table, mode="sum", per_sample_weights=wts.view(-1, n_slots))
        return out.view(q1.shape[0], idx.shape[1] // n_slots * self.width)

    def phases(self, coords: Tensor, dtype: torch.dtype, groups: slice = slice(None)) -> Tensor:
        """Reduced phases in ``dtype``: the table path for float32, :meth:`phases64` for float64."""
        if dtype == torch.float64:
            return self.phases64(coords, groups)
        return self.from_split(*self.split(coords, dtype), dtype, groups)

    def phases64(self, coords: Tensor, groups: slice = slice(None)) -> Tensor:
        """The reference: ``2π·frac(t)`` with ``t`` evaluated directly in float64, ``(N, g·K)``."""
        c = coords if coords.dtype == torch.float64 else coords.to(torch.float64)
        freqs, consts = self._constants(c.device, torch.float64)[6:8]
        bag_coords = self.bag_coords[groups].to(c.device)
        t = consts[self.bag_consts[groups].to(c.device)][None].expand(c.shape[0], -1, -1)  # (N, g, K)
        for i in range(bag_coords.shape[1]):
            cols = bag_coords[:, i]
            t = torch.addcmul(t, c[:, cols][:, :, None], freqs[cols][None])
        return reduce_turns(t).reshape(c.shape[0], t.shape[1] * t.shape[2])

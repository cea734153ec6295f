"""``geoenc map``: a model's predictions, one dimension of a position encoding, or an autoencoder's
reconstruction error, as a GeoTIFF on a regular grid.

The grid is walked in blocks of rows and each block is evaluated in batches that are reduced at once
(argmax, the chosen classes' probabilities), so memory holds one batch of ``rows × classes`` scores and one
block of output cells — never the whole raster, and never every class's probability for a whole block.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from geoenc.device import resolve_device
from geoenc.errors import ModelError, ParameterError, UsageError, did_you_mean
from geoenc.io import Outputs
from geoenc.maps.plot import class_colours, quicklook
from geoenc.maps.streaming import DEFAULT_MAX_CELLS, Grid, GridWriter, make_grid
from geoenc.provenance import provenance

#: output bytes per block of rows (cells × bands × 4): bounds memory whatever the number of bands
BLOCK_BYTES = 64 << 20
FLOAT_NODATA = -9999.0
CLASS_NODATA = 65535


@dataclass
class MapResult:
    path: str
    width: int
    height: int
    bands: list[str]
    kind: str
    extra: dict[str, Any] = field(default_factory=dict)


def rows_per_block(grid: Grid, bands: int) -> int:
    rows = max(1, BLOCK_BYTES // (4 * max(1, bands) * grid.width))
    if rows >= 256:
        rows -= rows % 256  # whole tiles per block
    return min(rows, grid.height)


def _block(shared: tuple[Callable[[np.ndarray], np.ndarray], Grid], rows: tuple[int, int]) -> np.ndarray:
    """The ``(bands, n, width)`` values of ``n`` grid rows from ``row0`` (one task of a distributed map)."""
    fn, grid = shared
    row0, n = rows
    values = fn(grid.row_centres(row0, n))  # (cells, bands)
    return np.ascontiguousarray(values.T.reshape(values.shape[1], n, grid.width))


def _walk(
    grid: Grid,
    bands: int,
    fn: Callable[[np.ndarray], np.ndarray],
    writer: GridWriter,
    progress: Callable[[int, int], None] | None,
    mapper: Callable[..., Any] | None = None,
) -> None:
    """Evaluate the grid block by block and write each block; with ``mapper`` the blocks are tasks (e.g. on
    Dask workers, ``fn`` shared with them once) and are written here in row order as they arrive: the file
    is the one a single process writes, and only the blocks in flight are held."""
    step = rows_per_block(grid, bands)
    items = [(row0, min(step, grid.height - row0)) for row0 in range(0, grid.height, step)]
    if mapper is None:
        for item in items:
            writer.write_rows(item[0], _block((fn, grid), item))
            if progress is not None:
                progress(item[0] + item[1], grid.height)
        return
    waiting: dict[int, np.ndarray] = {}
    nxt = 0
    for k, block in mapper(_block, (fn, grid), items, name="map", ordered=True):
        waiting[k] = block
        while nxt in waiting:
            writer.write_rows(items[nxt][0], waiting.pop(nxt))
            if progress is not None:
                progress(items[nxt][0] + items[nxt][1], grid.height)
            nxt += 1


def choose_classes(
    classes: list[str],
    wanted: list[str] | None,
    top_k: int | None,
    all_classes: bool,
    mean_prob: Callable[[], np.ndarray] | None = None,
) -> list[int]:
    """Indices of the classes to map: named ones, the top-k by mean probability over the grid, or all."""
    if sum(bool(x) for x in (wanted, top_k, all_classes)) > 1:
        raise UsageError("give only one of --class, --top-k and --all")
    if wanted:
        index = {c: i for i, c in enumerate(classes)}
        missing = [w for w in wanted if w not in index]
        if missing:
            shown = ", ".join(classes[:50]) + (" …" if len(classes) > 50 else "")
            raise UsageError(
                f"unknown class {missing[0]!r}{did_you_mean(missing[0], classes)}; the model's classes are: {shown}"
            )
        return [index[w] for w in wanted]
    if all_classes:
        return list(range(len(classes)))
    if top_k is not None:
        if not 1 <= top_k <= len(classes):
            raise UsageError(f"--top-k must be between 1 and the number of classes ({len(classes)}), got {top_k}")
        assert mean_prob is not None
        means = mean_prob()
        return [int(i) for i in np.argsort(-means, kind="stable")[:top_k]]
    return []


def _png_target(png: str | Path | None) -> None:
    if png is not None and Path(png).suffix.lower() != ".png":
        raise UsageError(f"--png {str(png)!r}: give a file name ending in .png")


def _tif_target(dest: str | Path) -> None:
    if Path(dest).suffix.lower() not in (".tif", ".tiff"):
        raise UsageError(f"-o {str(dest)!r}: the map is a GeoTIFF, give a file name ending in .tif")


def map_model(
    model_dir: str | os.PathLike[str],
    dest: str | Path,
    *,
    classes: list[str] | None = None,
    top_k: int | None = None,
    all_classes: bool = False,
    argmax: bool = False,
    bbox: str | None = None,
    cell_deg: float = 0.5,
    png: str | Path | None = None,
    batch_size: int = 65_536,
    device: str = "auto",
    overwrite: bool = False,
    max_cells: int = DEFAULT_MAX_CELLS,
    progress: Callable[[int, int], None] | None = None,
    mapper: Callable[..., Any] | None = None,
) -> MapResult:
    """Write a GeoTIFF of a model's predictions (or of one embedding dimension) on a regular lon/lat grid.

    Classification: one band per chosen class probability (band description = class name), or with
    ``argmax`` (the default when no class is chosen) one uint16 band of class indices with a colour table and
    the class names in the ``classes`` tag. Regression: one band of predicted values. A head-less model
    (``geoenc pretrain``, an imported pretrained encoder) is mapped with :func:`map_embedding` instead.
    """
    from geoenc.models import load_model

    _tif_target(dest)
    _png_target(png)
    with Outputs(overwrite) as outputs:
        tif = outputs.file(dest)
        pic = outputs.file(png) if png is not None else None
        model = load_model(model_dir, resolve_device(device))
        if model.feature_column:
            raise ModelError(
                f"model {model_dir} also needs the feature column {model.feature_column!r} at every point, so it "
                "cannot be mapped over a grid: map a location-only model"
            )
        if model.task == "embedding":
            raise UsageError(
                f"model {model_dir} is a location encoder without a prediction head: map one of its "
                "embedding dimensions with --dim I"
            )

        def reduce(lonlat: np.ndarray, op: Callable[[torch.Tensor], torch.Tensor], dtype: Any) -> np.ndarray:
            parts = [op(b).cpu().numpy() for b in model.predict_batches(torch.from_numpy(lonlat), None, batch_size)]
            return np.concatenate(parts).astype(dtype, copy=False)

        tags = provenance(
            "map",
            geoenc_model=str(model_dir),
            geoenc_model_sha256=model.model_hash,
            geoenc_encoder=model.encoder_name,
            **_source_tags(model.spec.section("init_source")),  # trained on top of an imported pretrained encoder
        )
        all_names = list(model.classes or [])
        if model.task == "regression":
            if classes or top_k or all_classes or argmax:
                raise UsageError(
                    "--class, --top-k, --all and --argmax are for classification models; this one is regression"
                )
            names = [str(model.label or "prediction")]
            grid = make_grid(bbox, cell_deg, 1, max_cells)
            fn = lambda ll: reduce(ll, lambda b: b.reshape(-1, 1), np.float32)  # noqa: E731
            kind, dtype, nodata, cmap, units = "regression", "float32", FLOAT_NODATA, None, None
        else:

            def coarse() -> np.ndarray:
                # mean probability per class over a coarse grid (2°, or the map's cells when coarser)
                g = make_grid(bbox, max(cell_deg, 2.0), 1)
                ll = g.row_centres(0, g.height)
                mean: np.ndarray = reduce(ll, lambda b: b.sum(0, keepdim=True), np.float64).sum(0) / ll.shape[0]
                return mean

            picked = [] if argmax else choose_classes(all_names, classes, top_k, all_classes, coarse)
            if picked:
                names = [all_names[i] for i in picked]
                grid = make_grid(bbox, cell_deg, len(picked), max_cells)
                idx = torch.as_tensor(picked)
                fn = lambda ll: reduce(ll, lambda b: b[:, idx.to(b.device)], np.float32)  # noqa: E731
                kind, dtype, nodata, cmap = "probability", "float32", FLOAT_NODATA, None
                units = ["1"] * len(names)  # probabilities: dimensionless
            else:
                if len(all_names) >= CLASS_NODATA:
                    raise UsageError(f"--argmax supports fewer than {CLASS_NODATA} classes")
                names = ["argmax class index"]
                grid = make_grid(bbox, cell_deg, 1, max_cells)
                fn = lambda ll: reduce(ll, lambda b: b.argmax(1).reshape(-1, 1), np.uint16)  # noqa: E731
                kind, dtype, nodata, units = "argmax", "uint16", CLASS_NODATA, None
                cmap = {i: c for i, c in enumerate(class_colours(len(all_names)))}
                tags["classes"] = json.dumps(all_names)
        with GridWriter(tif, grid, names, dtype=dtype, nodata=nodata, tags=tags, colormap=cmap, units=units) as writer:
            _walk(grid, len(names), fn, writer, progress, mapper)
        if pic is not None:
            what = (
                "most probable class" if kind == "argmax" else (f"P({names[0]})" if kind == "probability" else names[0])
            )
            quicklook(
                tif.path,
                pic,
                title=f"{Path(str(model_dir)).name}: {what} ({model.encoder_name} model)",
                class_names=all_names if kind == "argmax" else None,
                label=what if kind != "argmax" else None,
            )
    return MapResult(str(dest), grid.width, grid.height, names, kind)


def map_encoder(
    method: str,
    params: dict[str, Any] | None,
    dim: int,
    dest: str | Path,
    *,
    bbox: str | None = None,
    cell_deg: float = 0.5,
    png: str | Path | None = None,
    device: str = "auto",
    overwrite: bool = False,
    max_cells: int = DEFAULT_MAX_CELLS,
    progress: Callable[[int, int], None] | None = None,
    mapper: Callable[..., Any] | None = None,
) -> MapResult:
    """Write one dimension of a position encoding over a grid (how an encoder's scales are usually shown)."""
    from geoenc.encoders import get_encoder

    _tif_target(dest)
    _png_target(png)
    enc = get_encoder(method, **(params or {}))
    if enc.needs_fit:
        raise UsageError(
            f"{enc.name} is fitted on data (anchors), so it has no map of its own: train a model and map that"
        )
    dev = resolve_device(device)
    name = f"{enc.name} dimension {dim}"
    return _map_dimension(
        lambda x: enc(x, dtype=torch.float32),
        enc.embedding_dim,
        dim,
        name,
        dest,
        dev,
        enc.to(dev),
        tags=provenance("map", geoenc_encoder=enc.name, geoenc_params=json.dumps(enc.params)),
        bbox=bbox,
        cell_deg=cell_deg,
        png=png,
        overwrite=overwrite,
        max_cells=max_cells,
        progress=progress,
        what="--method",
        mapper=mapper,
    )


def map_embedding(
    model_dir: str | os.PathLike[str],
    dim: int,
    dest: str | Path,
    *,
    bbox: str | None = None,
    cell_deg: float = 0.5,
    png: str | Path | None = None,
    device: str = "auto",
    overwrite: bool = False,
    max_cells: int = DEFAULT_MAX_CELLS,
    progress: Callable[[int, int], None] | None = None,
    mapper: Callable[..., Any] | None = None,
) -> MapResult:
    """Write one dimension of a model's learned location embedding (trained, pretrained or imported) over a grid."""
    from geoenc.models import load_model

    _tif_target(dest)
    _png_target(png)
    dev = resolve_device(device)
    model = load_model(model_dir, dev)
    name = f"{Path(str(model_dir)).name} embedding dimension {dim}"
    return _map_dimension(
        lambda x: model.embed(x),
        model.embedding_dim,
        dim,
        name,
        dest,
        dev,
        None,
        tags=provenance(
            "map",
            geoenc_model=str(model_dir),
            geoenc_model_sha256=model.model_hash,
            geoenc_encoder=model.encoder_name,
            **_source_tags(model.spec.section("source") or model.spec.section("init_source")),
        ),
        bbox=bbox,
        cell_deg=cell_deg,
        png=png,
        overwrite=overwrite,
        max_cells=max_cells,
        progress=progress,
        what="the model",
        mapper=mapper,
    )


def _source_tags(source: dict[str, Any]) -> dict[str, str]:
    """GeoTIFF tags naming the model and weights file an imported pretrained encoder came from (none otherwise)."""
    if not source:
        return {}
    return {
        "geoenc_source_model": str(source.get("model")),
        "geoenc_source_weights_sha256": str(source.get("weights_file_sha256")),
    }


def _map_dimension(
    fn: Callable[[torch.Tensor], torch.Tensor],
    width: int,
    dim: int,
    name: str,
    dest: str | Path,
    dev: torch.device,
    module: Any,
    *,
    tags: dict[str, Any],
    bbox: str | None,
    cell_deg: float,
    png: str | Path | None,
    overwrite: bool,
    max_cells: int,
    progress: Callable[[int, int], None] | None,
    what: str,
    mapper: Callable[..., Any] | None = None,
) -> MapResult:
    if not 0 <= dim < width:
        raise UsageError(f"--dim must be in [0, {width - 1}] for {what}, got {dim}")

    @torch.no_grad()
    def values(lonlat: np.ndarray) -> np.ndarray:
        out = fn(torch.from_numpy(lonlat).to(dev))[:, dim : dim + 1]  # float64 coordinates
        return out.cpu().numpy().astype(np.float32)

    grid = make_grid(bbox, cell_deg, 1, max_cells)
    with Outputs(overwrite) as outputs:
        tif = outputs.file(dest)
        pic = outputs.file(png) if png is not None else None
        with GridWriter(tif, grid, [name], nodata=FLOAT_NODATA, tags=tags) as writer:
            _walk(grid, 1, values, writer, progress, mapper)
        if pic is not None:
            quicklook(tif.path, pic, title=name, label=f"dimension {dim}")
    return MapResult(str(dest), grid.width, grid.height, [name], "encoder")


def map_reconstruction_error(
    ae_dir: str | os.PathLike[str],
    raster: str | os.PathLike[str],
    dest: str | Path,
    *,
    stride: int | None = None,
    min_valid: float = 0.5,
    device: str = "auto",
    batch_size: int = 512,
    overwrite: bool = False,
) -> Path:
    """A GeoTIFF whose pixel (i, j) is the reconstruction error of the chip centred on raster pixel
    ``(i·stride + stride//2, j·stride + stride//2)``: an anomaly map at 1/stride of the raster's resolution.

    Same CRS as the raster, transform ``raster_transform · scale(stride)``; float32, nodata −9999 where less
    than ``min_valid`` of the chip is valid; band description ``reconstruction_mse``. ``stride`` defaults to
    the chip size.
    """
    from affine import Affine

    from geoenc.imagery.embed import AutoencoderEmbedder
    from geoenc.io.geotiff import write_geotiff

    _tif_target(dest)
    with Outputs(overwrite, inputs=[raster]) as outputs:
        tif = outputs.file(dest)
        with AutoencoderEmbedder(ae_dir, raster, device=device, batch_size=batch_size) as emb:
            r = emb.reader
            stride = int(stride or r.size)
            if stride < 1:
                raise ParameterError(f"--stride must be at least 1, got {stride}")
            ow, oh = math.ceil(r.width / stride), math.ceil(r.height / stride)
            grid = np.full((oh, ow), -9999.0, np.float32)
            cols = np.arange(ow) * stride + stride // 2
            for i in range(oh):
                rows = np.full(ow, i * stride + stride // 2)
                chips = r.chips(np.minimum(rows, r.height - 1), np.minimum(cols, r.width - 1))
                ok = np.isfinite(chips).all(axis=1).reshape(ow, -1).mean(axis=1) >= min_valid
                if ok.any():
                    _, err = emb.run_chips(chips[ok])
                    grid[i, ok] = np.where(np.isfinite(err), err, -9999.0)
            write_geotiff(
                tif,
                [grid],
                ["reconstruction_mse"],
                transform=r.transform @ Affine.scale(stride),
                crs=r.crs_label(),
                nodata=-9999.0,
                dtype="float32",
            )
    return Path(dest)

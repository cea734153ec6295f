"""Prediction maps: evaluate a trained model (or one dimension of a position encoding) on a lon/lat grid.

The grid is walked in blocks of rows, each block evaluated in batches and written straight into the
GeoTIFF, so a 0.05° global grid (7200 × 3600 cells) needs memory for one block, not the whole raster.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from geoenc.device import resolve_device
from geoenc.errors import ModelError, UsageError, did_you_mean
from geoenc.maps.streaming import DEFAULT_MAX_CELLS, Grid, GridWriter, make_grid

#: cells evaluated per block of rows (bounds memory: block × bands × 4 bytes)
BLOCK_CELLS = 2_000_000
FLOAT_NODATA = -9999.0
CLASS_NODATA = 65535


@dataclass
class MapResult:
    path: str
    width: int
    height: int
    bands: list[str]
    kind: str
    extra: dict = field(default_factory=dict)


def _rows_per_block(grid: Grid) -> int:
    rows = max(1, BLOCK_CELLS // grid.width)
    if rows >= 256:
        rows -= rows % 256  # whole tiles per block
    return min(rows, grid.height)


def _walk(
    grid: Grid, fn: Callable[[np.ndarray], np.ndarray], writer: GridWriter, progress: Callable[[int, int], None] | None
) -> None:
    rows = _rows_per_block(grid)
    for row0 in range(0, grid.height, rows):
        n = min(rows, grid.height - row0)
        values = fn(grid.row_centres(row0, n))  # (cells, bands)
        writer.write_rows(row0, np.ascontiguousarray(values.T.reshape(values.shape[1], n, grid.width)))
        if progress is not None:
            progress(row0 + n, grid.height)


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
        means = mean_prob()
        return [int(i) for i in np.argsort(-means, kind="stable")[:top_k]]
    return []


def _colormap(n: int) -> dict[int, tuple[int, int, int, int]]:
    """A distinct colour per class index: hues spaced by the golden ratio, alternating lightness."""
    import colorsys

    out = {}
    for i in range(n):
        hue = (i * 0.618033988749895) % 1.0
        sat = 0.55 + 0.35 * ((i // 2) % 2)
        val = 0.95 - 0.25 * ((i // 3) % 2)
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        out[i] = (int(255 * r), int(255 * g), int(255 * b), 255)
    return out


def map_model(
    model_dir: str | Path,
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
    dim: int | None = None,
) -> MapResult:
    """Write a GeoTIFF of a trained model's predictions on a regular lon/lat grid.

    Classification: one band per chosen class probability (band description = class name), or with
    ``argmax`` (the default when no class is chosen) one uint16 band of class indices with a colour table
    and the class names in the ``classes`` tag. Regression: one band of predicted values. A head-less
    model (``geoenc pretrain``, ``geoenc pretrained import``): one band, embedding dimension ``dim`` (default 0).
    """
    from geoenc.io.write import check_output
    from geoenc.models import load_model

    check_output(dest, overwrite)
    if png is not None:
        check_output(png, overwrite)
    model = load_model(model_dir).to(resolve_device(device))
    if model.feature_column:
        raise ModelError(
            f"model {model_dir} also needs the feature column {model.feature_column!r} at every point, so it "
            "cannot be mapped over a grid: map a location-only model"
        )

    def predict(lonlat: np.ndarray) -> np.ndarray:
        return model.predict(torch.from_numpy(lonlat), batch_size=batch_size).cpu().numpy()

    tags = {
        "geoenc_model": str(model_dir),
        "geoenc_model_sha256": model.model_hash,
        "geoenc_encoder": model.encoder_name,
    }
    source = model.config.get("pretrained")
    if isinstance(source, dict):
        tags["geoenc_pretrained_source"] = str(source.get("source"))
        tags["geoenc_pretrained_weights_sha256"] = str(source.get("weights_file_sha256"))
    if dim is not None and model.task != "embedding":
        raise UsageError(f"--dim maps an embedding dimension of a head-less model; this one is {model.task}")
    if model.task == "embedding":
        if classes or top_k or all_classes or argmax:
            raise UsageError("--class, --top-k, --all and --argmax are for classification models: use --dim")
        dim = 0 if dim is None else dim
        if not 0 <= dim < model.embedding_dim:
            raise UsageError(f"--dim must be in [0, {model.embedding_dim - 1}] for this model, got {dim}")
        names = [f"embedding dimension {dim}"]
        grid = make_grid(bbox, cell_deg, 1, max_cells)

        def fn(ll: np.ndarray) -> np.ndarray:
            emb = model.embed(torch.from_numpy(ll), batch_size=batch_size)
            return emb[:, dim : dim + 1].cpu().numpy().astype(np.float32)

        kind, dtype, nodata, cmap = "embedding", "float32", FLOAT_NODATA, None
    elif model.task == "regression":
        if classes or top_k or all_classes or argmax:
            raise UsageError(
                "--class, --top-k, --all and --argmax are for classification models; this one is regression"
            )
        names = [str(model.label or "prediction")]
        grid = make_grid(bbox, cell_deg, 1, max_cells)
        fn = lambda ll: predict(ll).reshape(-1, 1).astype(np.float32)  # noqa: E731
        kind, dtype, nodata, cmap = "regression", "float32", FLOAT_NODATA, None
    else:
        all_names = list(model.classes or [])

        def coarse() -> np.ndarray:
            # mean probability per class over a coarse grid (2°, or the map's cells when coarser)
            g = make_grid(bbox, max(cell_deg, 2.0), 1)
            return predict(g.row_centres(0, g.height)).mean(axis=0)

        picked = [] if argmax else choose_classes(all_names, classes, top_k, all_classes, coarse)
        if picked:
            names = [all_names[i] for i in picked]
            grid = make_grid(bbox, cell_deg, len(picked), max_cells)
            idx = np.asarray(picked)
            fn = lambda ll: predict(ll)[:, idx].astype(np.float32)  # noqa: E731
            kind, dtype, nodata, cmap = "probability", "float32", FLOAT_NODATA, None
        else:
            if len(all_names) >= CLASS_NODATA:
                raise UsageError(f"--argmax supports fewer than {CLASS_NODATA} classes")
            names = ["argmax class index"]
            grid = make_grid(bbox, cell_deg, 1, max_cells)
            fn = lambda ll: predict(ll).argmax(axis=1).reshape(-1, 1).astype(np.uint16)  # noqa: E731
            kind, dtype, nodata, cmap = "argmax", "uint16", CLASS_NODATA, _colormap(len(all_names))
            tags["classes"] = json.dumps(all_names)
    with GridWriter(
        dest, grid, names, dtype=dtype, nodata=nodata, overwrite=overwrite, tags=tags, colormap=cmap
    ) as writer:
        _walk(grid, fn, writer, progress)
    if png is not None:
        label = (source or {}).get("source") if isinstance(source, dict) else None
        title = f"{label or model.encoder_name} model: {names[0] if kind != 'argmax' else 'most probable class'}"
        quicklook(dest, png, title=title, class_names=all_names if kind == "argmax" else None, overwrite=overwrite)
    return MapResult(str(dest), grid.width, grid.height, names, kind)


def map_encoder(
    method: str,
    params: dict | None,
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
) -> MapResult:
    """Write one dimension of a position encoding over a grid (how an encoder's scales are usually shown)."""
    from geoenc.encoders import get_encoder
    from geoenc.io.write import check_output

    check_output(dest, overwrite)
    if png is not None:
        check_output(png, overwrite)
    enc = get_encoder(method, **(params or {}))
    if enc.needs_fit:
        raise UsageError(
            f"{enc.name} is fitted on data (anchors), so it has no map of its own: train a model and map that"
        )
    if not 0 <= dim < enc.embedding_dim:
        raise UsageError(
            f"--dim must be in [0, {enc.embedding_dim - 1}] for {enc.name} with these parameters, got {dim}"
        )
    dev = resolve_device(device)
    enc = enc.to(dev)

    @torch.no_grad()
    def fn(lonlat: np.ndarray) -> np.ndarray:
        out = enc(torch.from_numpy(lonlat).to(dev, torch.float32))[:, dim : dim + 1]
        return out.cpu().numpy().astype(np.float32)

    grid = make_grid(bbox, cell_deg, 1, max_cells)
    name = f"{enc.name} dimension {dim}"
    with GridWriter(
        dest,
        grid,
        [name],
        overwrite=overwrite,
        nodata=FLOAT_NODATA,
        tags={"geoenc_encoder": enc.name, "geoenc_params": json.dumps(enc.params)},
    ) as writer:
        _walk(grid, fn, writer, progress)
    if png is not None:
        quicklook(dest, png, title=name, overwrite=overwrite)
    return MapResult(str(dest), grid.width, grid.height, [name], "encoder")


def quicklook(
    tif: str | Path,
    png: str | Path,
    *,
    title: str,
    class_names: list[str] | None = None,
    overwrite: bool = False,
    max_width: int = 1800,
) -> None:
    """A PNG picture of a GeoTIFF's first band (decimated to ``max_width`` pixels), with a colour bar.

    With ``class_names`` the band holds class indices: drawn with the GeoTIFF's colour table and a legend.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import rasterio

    from geoenc.io.write import AtomicFile

    with rasterio.open(tif) as ds:
        scale = max(1, int(np.ceil(ds.width / max_width)))
        shape = (max(1, ds.height // scale), max(1, ds.width // scale))
        data = ds.read(1, out_shape=shape, masked=True)
        b = ds.bounds
    fig, ax = plt.subplots(figsize=(10, 10 * shape[0] / shape[1] + 1.2), dpi=110)
    extent = (b.left, b.right, b.bottom, b.top)
    if class_names is not None:
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        colours = [tuple(c / 255 for c in rgba) for rgba in _colormap(len(class_names)).values()]
        ax.imshow(
            data,
            extent=extent,
            cmap=ListedColormap(colours),
            vmin=-0.5,
            vmax=len(colours) - 0.5,
            interpolation="nearest",
        )
        values, counts = np.unique(data.compressed(), return_counts=True)
        order = [int(values[j]) for j in np.argsort(-counts, kind="stable")[:25]]  # largest areas first
        extra = len(values) - len(order)
        handles = [Patch(color=colours[i], label=class_names[i]) for i in order]
        if extra > 0:
            handles.append(Patch(color="white", label=f"… {extra} more"))
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    else:
        im = ax.imshow(data, extent=extent, cmap="viridis")
        fig.colorbar(im, ax=ax, shrink=0.7, label="value")
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.set_title(title)
    out = AtomicFile(png, overwrite)
    try:
        fig.savefig(out.path, format="png", bbox_inches="tight")
        out.commit()
    except BaseException:
        out.discard()
        raise
    finally:
        plt.close(fig)

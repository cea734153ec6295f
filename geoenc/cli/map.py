"""``geoenc map``: a model's predictions, an embedding or encoder dimension, or an autoencoder's reconstruction
error, as a Cloud-Optimized GeoTIFF on a regular grid."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar
from geoenc.errors import UsageError

_what = o.panel_option("What to map")
_grid = o.panel_option("Grid")


def map_cmd(
    model: Annotated[
        str | None,
        typer.Argument(
            metavar="[MODEL]", help="A model folder (`geoenc train`, `pretrain`, `pretrained import` or `autoencode`)."
        ),
    ] = None,
    output: Annotated[
        str, o.option("--output", "-o", metavar="PATH", help="GeoTIFF to write (.tif).", panel="Output")
    ] = ...,  # type: ignore[assignment]
    class_: Annotated[
        list[str] | None, _what("--class", metavar="NAME", help="Map this class's probability (repeatable).")
    ] = None,
    top_k: Annotated[
        int | None, _what("--top-k", metavar="K", help="Map the K classes with the highest mean probability.")
    ] = None,
    all_classes: Annotated[bool, o.flag("--all", panel="What to map", help="Map every class (one band each).")] = False,
    argmax: Annotated[
        bool, o.flag("--argmax", panel="What to map", help="One band of the most probable class index (default).")
    ] = False,
    dim: Annotated[
        int | None,
        _what(
            "--dim",
            metavar="I",
            help=("Map this dimension of the model's embedding, or (with --method) of a position encoding."),
        ),
    ] = None,
    method: Annotated[
        str | None, _what("--method", "-m", metavar="NAME", help="No model: map a position encoder's dimension --dim.")
    ] = None,
    param: o.Params = None,
    raster: Annotated[
        str | None,
        _what(
            "--raster",
            metavar="RASTER",
            help=("With an autoencoder from `geoenc autoencode`: map its reconstruction error over this raster."),
        ),
    ] = None,
    stride: Annotated[
        int | None,
        _what("--stride", metavar="N", help=("With --raster: pixels between chip centres (default: the chip size).")),
    ] = None,
    bbox: Annotated[
        str | None, _grid("--bbox", metavar="W,S,E,N", help="Extent in degrees (default: the whole globe).")
    ] = None,
    cell_deg: Annotated[float, _grid("--cell-deg", metavar="DEG", help="Cell size in degrees.")] = 0.5,
    max_cells: Annotated[
        int, _grid("--max-cells", metavar="N", help="Refuse larger grids (cells × bands).")
    ] = 2_000_000_000,
    png: Annotated[
        str | None, o.option("--png", metavar="PATH", panel="Output", help="Also write a quick-look PNG picture.")
    ] = None,
    batch_size: o.BatchSize = 65_536,
    device: o.Device = "auto",
    overwrite: o.Overwrite = False,
    engine: o.Engine = None,
    scheduler: o.Scheduler = None,
    quiet: o.Quiet = False,
) -> None:
    """Evaluate a model (or one dimension of an embedding or a position encoding) on a regular lon/lat grid.

    With --engine dask the grid's row blocks are tasks on a Dask cluster, assembled here into one GeoTIFF.

    Example: geoenc map model/ --class FR --cell-deg 0.1 --bbox -10,35,30,60 -o fr.tif --png fr.png
    """
    from geoenc.imagery.autoencoder import is_autoencoder_dir
    from geoenc.workflows import map as maps
    from geoenc.workflows.distributed import resolve_engine

    if (model is None) == (method is None):
        raise UsageError("give a MODEL folder, or --method (with -p and --dim) to map a position encoder")
    if model is not None and (is_autoencoder_dir(model) or raster is not None):
        if raster is None or not is_autoencoder_dir(model):
            raise UsageError("--raster goes with an autoencoder folder from `geoenc autoencode` (and it needs one)")
        if resolve_engine(engine, scheduler) == "dask":
            raise UsageError("a reconstruction-error map runs here only: leave out --engine/--scheduler")
        path = maps.map_reconstruction_error(model, raster, output, stride=stride, device=device, overwrite=overwrite)
        note(f"wrote the reconstruction-error map of {raster} → {path}", quiet)
        return
    if method is not None and dim is None:
        raise UsageError("--method maps one dimension of the encoding: give --dim I")
    if method is None and dim is not None and (class_ or top_k or all_classes or argmax):
        raise UsageError("--dim maps an embedding dimension: leave out --class, --top-k, --all and --argmax")
    params = o.parse_key_values(param)
    grid: dict[str, Any] = {
        "bbox": bbox,
        "cell_deg": cell_deg,
        "png": png,
        "device": device,
        "overwrite": overwrite,
        "max_cells": max_cells,
    }
    with o.open_engine(engine, scheduler, quiet) as mapper, progress_bar("mapping rows", quiet) as update:
        grid["mapper"] = mapper
        if method is not None and dim is not None:  # --method without --dim was refused above
            res = maps.map_encoder(method, params, dim, output, progress=update, **grid)
        elif model is None:  # unreachable: exactly one of the two was checked above
            raise UsageError("give a MODEL folder")
        elif dim is not None:
            res = maps.map_embedding(model, dim, output, progress=update, **grid)
        else:
            res = maps.map_model(
                model,
                output,
                classes=class_,
                top_k=top_k,
                all_classes=all_classes,
                argmax=argmax,
                batch_size=batch_size,
                progress=update,
                **grid,
            )
    note(f"wrote {res.width} × {res.height} cells, {len(res.bands)} band(s) ({res.kind}) → {res.path}", quiet)

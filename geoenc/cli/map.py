"""``geoenc map``: a trained model's predictions (or an encoder dimension) as a GeoTIFF on a lon/lat grid."""

from __future__ import annotations

from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar
from geoenc.errors import UsageError


def map_cmd(
    model: Annotated[
        str | None, typer.Argument(metavar="[MODEL]", help="A model directory from `geoenc train`.")
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="GeoTIFF to write.")] = ...,
    class_: Annotated[
        list[str] | None, typer.Option("--class", help="Map this class's probability (repeatable).")
    ] = None,
    top_k: Annotated[
        int | None, typer.Option("--top-k", help="Map the K classes with the highest mean probability.")
    ] = None,
    all_classes: Annotated[bool, typer.Option("--all", help="Map every class (one band each).")] = False,
    argmax: Annotated[
        bool, typer.Option("--argmax", help="One band of the most probable class index (default).")
    ] = False,
    bbox: Annotated[str | None, typer.Option("--bbox", help="W,S,E,N in degrees (default: the whole globe).")] = None,
    cell_deg: Annotated[float, typer.Option("--cell-deg", help="Cell size in degrees.")] = 0.5,
    png: Annotated[str | None, typer.Option("--png", help="Also write a quick-look PNG picture.")] = None,
    method: Annotated[
        str | None, typer.Option("--method", "-m", help="No model: map a position encoder's dimension.")
    ] = None,
    param: o.Params = None,
    dim: Annotated[
        int | None,
        typer.Option(
            "--dim",
            help="Which output dimension to draw: of the encoder (--method), or of a head-less model's "
            "embedding (from `geoenc pretrain` or `geoenc pretrained import`). Default 0.",
        ),
    ] = None,
    raster: Annotated[
        str | None,
        typer.Option(
            "--raster",
            help="With an autoencoder from `geoenc autoencode`: map its reconstruction error over this raster.",
        ),
    ] = None,
    stride: Annotated[
        int | None,
        typer.Option("--stride", help="With --raster: pixels between chip centres (default: the chip size)."),
    ] = None,
    max_cells: Annotated[int, typer.Option("--max-cells", help="Refuse larger grids (cells × bands).")] = 2_000_000_000,
    batch_size: o.BatchSize = 65_536,
    device: o.Device = "auto",
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Evaluate a model (or one dimension of a position encoding) on a regular lon/lat grid → GeoTIFF.

    Example: geoenc map model/ --class FR --cell-deg 0.1 --bbox -10,35,30,60 -o fr.tif --png fr.png
    """
    from geoenc.maps.model_map import map_encoder, map_model

    if (model is None) == (method is None):
        raise UsageError("give a MODEL directory, or --method (with -p and --dim) to map a position encoder")
    if model is not None:
        from geoenc.imagery.autoencoder import is_autoencoder_dir

        if is_autoencoder_dir(model) or raster is not None:
            if raster is None or not is_autoencoder_dir(model):
                raise UsageError(
                    "--raster goes with an autoencoder directory from `geoenc autoencode` (and it needs one)"
                )
            from geoenc.imagery.embed import reconstruction_error_map

            path = reconstruction_error_map(model, raster, output, stride=stride, device=device, overwrite=overwrite)
            note(f"wrote the reconstruction-error map of {raster} → {path}", quiet)
            return
    with progress_bar("mapping rows", quiet) as update:
        if model is not None:
            res = map_model(
                model,
                output,
                classes=class_,
                top_k=top_k,
                all_classes=all_classes,
                argmax=argmax,
                bbox=bbox,
                cell_deg=cell_deg,
                png=png,
                batch_size=batch_size,
                device=device,
                overwrite=overwrite,
                max_cells=max_cells,
                progress=update,
                dim=dim,
            )
        else:
            res = map_encoder(
                method,
                o.parse_key_values(param),
                0 if dim is None else dim,
                output,
                bbox=bbox,
                cell_deg=cell_deg,
                png=png,
                device=device,
                overwrite=overwrite,
                max_cells=max_cells,
                progress=update,
            )
    note(f"wrote {res.width} × {res.height} cells, {len(res.bands)} band(s) ({res.kind}) → {res.path}", quiet)


def register(app: typer.Typer) -> None:
    app.command("map")(map_cmd)

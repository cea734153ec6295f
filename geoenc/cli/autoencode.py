"""``geoenc autoencode``: train a convolutional autoencoder on image chips of a raster."""

from __future__ import annotations

from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.patches import Bands, Raster, Size
from geoenc.cli.progress import note, progress_bar

_opt = o.panel_option("Training")


def autoencode(
    raster: Raster,
    output: Annotated[
        str,
        o.option(
            "--output",
            "-o",
            metavar="AE_DIR",
            panel="Output",
            help="Model folder to write (safetensors + config.json).",
        ),
    ],
    size: Size = 32,
    latent: Annotated[int, _opt("--latent", metavar="N", help="Size of the latent vector (the embedding).")] = 64,
    width: Annotated[
        int, _opt("--width", metavar="N", help="Channels of the first convolution (doubling per stage).")
    ] = 16,
    bands: Bands = None,
    samples: Annotated[
        int, _opt("--samples", metavar="N", help="Chips drawn uniformly over the raster's valid area.")
    ] = 10_000,
    points: Annotated[
        str | None,
        _opt(
            "--points",
            metavar="PATH",
            help=("Train on chips at these points instead of random ones (GeoParquet, GeoJSON, CSV)."),
        ),
    ] = None,
    epochs: Annotated[int, _opt("--epochs", metavar="N", help="Passes over the training chips.")] = 10,
    batch_size: o.BatchSize = 128,
    lr: Annotated[float, _opt("--lr", metavar="LR", help="Peak learning rate (Adam, one-cycle schedule).")] = 1e-3,
    val_fraction: Annotated[
        float, _opt("--val-fraction", metavar="F", help="Share of chips held out for metrics.json.")
    ] = 0.1,
    patience: Annotated[
        int | None,
        _opt(
            "--patience",
            metavar="N",
            help=("Stop after this many epochs without a lower held-out MSE (default: train every epoch)."),
        ),
    ] = None,
    resume: Annotated[
        bool, o.flag("--resume", panel="Training", help="Continue the interrupted run saved in -o.")
    ] = False,
    seed: o.Seed = 0,
    device: o.Device = "auto",
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Train a convolutional autoencoder on SIZE×SIZE chips of RASTER and write a model folder.

    metrics.json holds the held-out reconstruction MSE beside the per-band mean-image baseline. Use the
    model with `geoenc encode POINTS --model DIR --raster RASTER` (embedding = latent + recon_error).

    Example: geoenc autoencode bluemarble.tif --size 32 --latent 64 --samples 20000 -o ae/
    """
    from geoenc.imagery.raster import parse_bands
    from geoenc.imagery.training import AutoencoderConfig, train_autoencoder

    cfg = AutoencoderConfig(
        size=size,
        latent=latent,
        width=width,
        samples=samples,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        val_fraction=val_fraction,
        bands=parse_bands(bands),
        patience=patience,
    )
    with progress_bar("training", quiet) as update:
        m = train_autoencoder(
            raster,
            output,
            cfg,
            points=points,
            device=device,
            overwrite=overwrite,
            progress=o.engine_progress(update),
            resume=resume,
        )
    if m["interrupted"]:
        note(
            f"interrupted after {m['epochs']} epochs; resumable checkpoint in {output} (continue with --resume)",
            quiet=False,
        )
        raise typer.Exit(130)
    note(
        f"held-out reconstruction MSE {m['val_mse']:.4f} vs {m['baseline_mean_image_mse']:.4f} for the per-band "
        f"mean image (standardised units; {m['train_chips']:,} training chips, {m['seconds']:.0f} s) → {output}",
        quiet,
    )

"""Entry point of the ``geoenc`` command: the app, its global options, and the list of commands."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

import geoenc
from geoenc.cli.app import app
from geoenc.cli.errors import set_debug

#: each module in geoenc/cli/ that defines a command has a ``register(app)`` function
COMMANDS = [
    "encode",
    "methods",
    "train",
    "predict",
    "evaluate",
    "geobias",
    "map",
    "benchmark",
    "pretrain",
    "patches",
    "autoencode",
    "pretrained",
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"geoenc {geoenc.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors (or set GEOENC_DEBUG=1).")] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            min=1,
            envvar="GEOENC_THREADS",
            help="CPU threads for torch (default: torch's own choice). 1 is often fastest on a busy machine.",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Location encoders, location models and geo-bias scores for geographic points."""
    set_debug(debug)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


for _name in COMMANDS:
    importlib.import_module(f"geoenc.cli.{_name}").register(app)


def main() -> None:
    app()

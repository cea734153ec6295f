"""Entry point of the ``geoenc`` command: the app, its global options, and the list of commands.

Command modules import only typer and the shared options at start-up; the library (torch, pyarrow …) is
imported inside each command when it runs, so ``geoenc --help`` and ``--version`` start fast.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from geoenc._version import __version__
from geoenc.cli.app import GeoencCommand, app
from geoenc.cli.errors import set_debug
from geoenc.cli.options import flag, option

#: command name → (module in geoenc/cli/, function), in the order `geoenc --help` lists them
COMMANDS = {
    "encode": ("encode", "encode"),
    "methods": ("methods", "methods"),
    "train": ("train", "train"),
    "predict": ("predict", "predict"),
    "evaluate": ("evaluate", "evaluate"),
    "geobias": ("geobias", "geobias"),
    "map": ("map", "map_cmd"),
    "benchmark": ("benchmark", "benchmark"),
    "pretrain": ("pretrain", "pretrain"),
    "patches": ("patches", "patches"),
    "autoencode": ("autoencode", "autoencode"),
    "pretrained": ("pretrained", "pretrained_app"),  # a group: `geoenc pretrained [list|import]`
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"geoenc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, flag("--debug", help="Show tracebacks on errors (or set GEOENC_DEBUG=1).")] = False,
    threads: Annotated[
        int | None,
        option(
            "--threads",
            metavar="N",
            min=1,
            envvar="GEOENC_THREADS",
            help=(
                "CPU threads for torch, SciPy, geo-bias workers and scikit-learn "
                "(default: the CPUs free at the start, at most 8; see docs/threads.md)."
            ),
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, metavar=" ", help="Print the version and exit."),
    ] = False,
) -> None:
    """Location encoders, location models and geo-bias scores for geographic points."""
    from geoenc.threads import set_threads

    set_debug(debug)
    set_threads(threads)


for _name, (_module, _function) in COMMANDS.items():
    _target = getattr(importlib.import_module(f"geoenc.cli.{_module}"), _function)
    if isinstance(_target, typer.Typer):
        app.add_typer(_target, name=_name)
    else:
        app.command(_name, cls=GeoencCommand)(_target)


def main() -> None:
    app()

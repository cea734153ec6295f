"""``geoenc pretrained``: list the known pretrained location encoders; ``import`` one as a model directory."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.app import GeoencCommand, GeoencGroup
from geoenc.cli.progress import note

pretrained_app = typer.Typer(
    name="pretrained",
    cls=GeoencGroup,
    help="Pretrained location encoders (GeoCLIP, SatCLIP, CSP, SINR): `geoenc pretrained` lists them, "
    "`geoenc pretrained import NAME -o DIR` makes one a model directory.",
    no_args_is_help=False,
    invoke_without_command=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_table(as_json: bool) -> None:
    from geoenc.pretrained import list_pretrained

    infos = list_pretrained()
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="pretrained location encoders (geoenc pretrained import NAME -o DIR)")
    for col in ("name", "dim", "original input", "weights", "licence", "checked on released weights"):
        table.add_column(col, overflow="fold")
    for i in infos:
        checked = "yes" if i.checked_with_released_weights else "no: upstream-format files"
        table.add_row(i.name, str(i.embedding_dim), i.input_convention, i.weights_short, i.licence_short, checked)
    Console().print(table)


@pretrained_app.callback()
def pretrained(
    ctx: typer.Context,
    as_json: Annotated[bool, o.flag("--json", help="Print JSON (with citations) instead of a table.")] = False,
) -> None:
    """List the pretrained location encoders geoenc can import (with --json: every fact, citations included).

    Example: geoenc pretrained import geoclip -o geoclip/ && geoenc encode pts.parquet --model geoclip/ -o emb.parquet
    """
    if ctx.invoked_subcommand is None:
        _print_table(as_json)


@pretrained_app.command("list", cls=GeoencCommand)
def list_cmd(
    as_json: Annotated[bool, o.flag("--json", help="Print JSON (with citations) instead of a table.")] = False,
) -> None:
    """List the pretrained location encoders (the same as `geoenc pretrained`)."""
    _print_table(as_json)


@pretrained_app.command("import", cls=GeoencCommand)
def import_cmd(
    name: Annotated[str, typer.Argument(metavar="NAME", help="geoclip, satclip, csp or sinr.")],
    output: Annotated[str, o.option("--output", "-o", metavar="DIR", help="Model folder to write.", panel="Output")],
    source: Annotated[
        str | None,
        o.option(
            "--from",
            metavar="PATH",
            help="The downloaded weights file (geoclip: optional, read from the installed geoclip package).",
        ),
    ] = None,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Convert a pretrained model's released weights into a geoenc model directory (safetensors + JSON).

    The weights are read with torch.load(weights_only=True) only. Use the directory with
    `geoenc encode --model DIR`, `geoenc train --init DIR [--freeze-encoder]` and `geoenc map DIR --dim I`.

    Example: geoenc pretrained import satclip --from satclip-resnet18-l10.ckpt -o satclip-l10/
    """
    from geoenc.pretrained import import_pretrained

    res = import_pretrained(name, output, source=source, overwrite=overwrite)
    known = f", {res.known_release}" if res.known_release else ""
    note(
        f"imported {res.info.name} ({res.info.title}, {res.embedding_dim} dims) from {res.source} "
        f"(sha256 {res.source_sha256[:16]}…{known}) → {res.path}",
        quiet,
    )

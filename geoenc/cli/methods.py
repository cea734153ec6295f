"""``geoenc methods``: the registered position encoders, their dimension and parameters."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from geoenc.cli.options import flag


def methods(
    as_json: Annotated[bool, flag("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the position encoders with their output dimension and parameters."""
    from rich.console import Console
    from rich.table import Table

    from geoenc.catalogue import read  # the shipped catalogue: no torch import, so it answers at once

    infos = read()
    if as_json:
        typer.echo(json.dumps(infos, indent=2))
        return
    table = Table(title="geoenc position encoders", show_lines=False)
    for col in ("method", "dim", "default net", "parameters (default)", "what it computes"):
        table.add_column(col, overflow="fold")
    for i in infos:
        params = ", ".join(f"{p['name']}={p['default']}" for p in i["params"]) or "—"
        table.add_row(i["name"], i["dim"], i["default_net"], params, i["summary"])
    Console().print(table)

"""Options shared by every command (one definition, reused), and the small parsers behind them."""

from __future__ import annotations

from typing import Annotated

import typer

from geoenc.errors import UsageError
from geoenc.io import CoordOptions

# -- input -------------------------------------------------------------------------------------------
InputArg = Annotated[
    str,
    typer.Argument(
        metavar="INPUT",
        help="Points: GeoParquet, GeoJSON, CSV file, a URL (https, s3, gs, az/abfs; docs/formats.md), or - for stdin.",
    ),
]
InputFormat = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="Input format: parquet, geojson, ndjson or csv (default: from the suffix, else sniffed).",
        rich_help_panel="Input",
    ),
]
LonCol = Annotated[
    str | None,
    typer.Option("--lon-col", help="Longitude column (default: lon, lng, longitude, x …).", rich_help_panel="Input"),
]
LatCol = Annotated[
    str | None,
    typer.Option("--lat-col", help="Latitude column (default: lat, latitude, y …).", rich_help_panel="Input"),
]
GeometryCol = Annotated[
    str | None,
    typer.Option("--geometry-col", help="A WKT/WKB geometry column to read points from.", rich_help_panel="Input"),
]
Crs = Annotated[
    str | None,
    typer.Option(
        "--crs",
        help="CRS of the input coordinates when the file does not say (CSV: default lon/lat WGS84), e.g. EPSG:3857.",
        rich_help_panel="Input",
    ),
]
Centroid = Annotated[
    bool,
    typer.Option("--centroid", help="Use a representative point of non-point geometries.", rich_help_panel="Input"),
]
WrapLon = Annotated[
    bool,
    typer.Option(
        "--wrap-lon", help="Wrap longitudes outside [-180, 180] instead of refusing them.", rich_help_panel="Input"
    ),
]

# -- output ------------------------------------------------------------------------------------------
Output = Annotated[
    str,
    typer.Option("--output", "-o", help="Output file (.parquet or .csv), or - for stdout.", rich_help_panel="Output"),
]
OutputFormat = Annotated[
    str | None,
    typer.Option(
        "--output-format",
        help="parquet or csv (default: from the suffix; parquet for stdout).",
        rich_help_panel="Output",
    ),
]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.", rich_help_panel="Output")]
Layout = Annotated[
    str,
    typer.Option(
        "--layout",
        help="Embedding as one list column 'embedding' (list) or columns emb_0… (columns).",
        rich_help_panel="Output",
    ),
]

# -- compute -----------------------------------------------------------------------------------------
Device = Annotated[str, typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel="Compute")]
Dtype = Annotated[str, typer.Option("--dtype", help="float32 or float64.", rich_help_panel="Compute")]
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, help="Points per batch.", rich_help_panel="Compute")]
Seed = Annotated[int, typer.Option("--seed", help="Seed for everything random.", rich_help_panel="Compute")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary on stderr.")]

# -- encoder -----------------------------------------------------------------------------------------
Method = Annotated[str, typer.Option("--method", "-m", help="Position encoder (see `geoenc methods`).")]
Params = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", metavar="KEY=VALUE", help="Encoder parameter, repeatable (see `geoenc methods`)."),
]


def panel_option(panel: str):
    """An option factory for one help panel: ``_opt = panel_option("Training"); _opt("--epochs", help=…)``."""

    def make(*names: str, help: str, panel: str = panel, **kw):
        return typer.Option(*names, help=help, rich_help_panel=panel, **kw)

    return make


def coord_options(
    lon_col: str | None, lat_col: str | None, geometry_col: str | None, crs: str | None, centroid: bool, wrap_lon: bool
) -> CoordOptions:
    return CoordOptions(
        crs=crs, centroid=centroid, wrap_lon=wrap_lon, lon_col=lon_col, lat_col=lat_col, geometry_col=geometry_col
    )


def parse_key_values(items: list[str] | None, flag: str = "-p") -> dict[str, str]:
    """``["a=1", "b=x"]`` → ``{"a": "1", "b": "x"}``; a malformed item is a usage error."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} takes KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out

"""Options shared by the commands (one definition each, reused), and the small parsers behind them.

Which command takes which (as rasterio's ``rio/options.py`` keeps it):

=====================  =========================================================================
option group           commands
=====================  =========================================================================
input (``@points_input``: --format, --lon-col, --lat-col, --geometry-col, --crs, --centroid, --wrap-lon)
                       encode, train, predict, evaluate, geobias, pretrain, patches
-o/--output, --overwrite
                       every command that writes (benchmark: -o is its results folder; --rerun)
--output-format        encode, predict, geobias
--layout               encode
-m/--method, -p        encode, train, pretrain, map (--method maps an encoder dimension)
--net, -n              train, pretrain, benchmark
--device               encode, train, predict, evaluate, map, benchmark, pretrain, autoencode
--batch-size           encode, train, predict, evaluate, map, benchmark, pretrain, patches, autoencode
--seed                 encode, train, pretrain, geobias, autoencode
--engine, --scheduler  encode, predict, map, geobias (docs/scale.md)
-q/--quiet             every command that reports progress
=====================  =========================================================================

Boolean options are flags (``--overwrite``, never ``--overwrite true``). The input format is ``--format``
(there is no ``-f``: GDAL and ``rio`` use ``-f`` for the *output* driver).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer

from geoenc.errors import UsageError

if typing.TYPE_CHECKING:
    from geoenc.io.coords import CoordOptions

# -- option factories ----------------------------------------------------------------------------------


def option(*names: str, help: str, metavar: str | None = None, panel: str | None = None, **kw: Any) -> Any:
    """A typer option with a metavar that says what to give (PATH, NAME, N …)."""
    return typer.Option(*names, help=help, metavar=metavar, rich_help_panel=panel, **kw)


def flag(*names: str, help: str, panel: str | None = None) -> Any:
    """A boolean flag: present or absent, never followed by a value (and not shown as taking one)."""
    return typer.Option(*names, help=help, rich_help_panel=panel, metavar=" ", show_default=False)


def panel_option(panel: str) -> Callable[..., Any]:
    """``_opt = panel_option("Training"); _opt("--epochs", help=…, metavar="N")`` — options of one help panel."""

    def make(*names: str, help: str, metavar: str | None = None, **kw: Any) -> Any:
        return option(*names, help=help, metavar=metavar, panel=panel, **kw)

    return make


# -- input -------------------------------------------------------------------------------------------
InputArg = Annotated[
    str,
    typer.Argument(
        metavar="INPUT",
        help="Points: GeoParquet, GeoJSON, CSV file, a URL (https, s3, gs, az/abfs; docs/formats.md), or - for stdin.",
    ),
]
#: encode and predict also take a partitioned dataset (geoenc.io.dataset) and then write one
DatasetInputArg = Annotated[
    str,
    typer.Argument(
        metavar="INPUT",
        help="Points: GeoParquet, GeoJSON, CSV file, a URL, - for stdin, or a dataset: a folder or a quoted glob "
        "of Parquet files (then -o is a folder, one file per partition).",
    ),
]
_IN = "Input"

# -- output ------------------------------------------------------------------------------------------
Output = Annotated[
    str,
    option("--output", "-o", metavar="PATH", help="Output file (.parquet or .csv), or - for stdout.", panel="Output"),
]
OutputFormat = Annotated[
    str | None,
    option(
        "--output-format",
        metavar="FORMAT",
        panel="Output",
        help="parquet or csv (default: from the suffix; parquet for stdout).",
    ),
]
Overwrite = Annotated[
    bool, flag("--overwrite", help="Replace an existing output (geoenc's own, for folders).", panel="Output")
]
Layout = Annotated[
    str,
    option(
        "--layout",
        metavar="list|columns",
        panel="Output",
        help="Embedding as one list column 'embedding' (list) or columns emb_0… (columns).",
    ),
]

# -- compute -----------------------------------------------------------------------------------------
Device = Annotated[str, option("--device", metavar="DEVICE", help="auto, cpu, cuda or cuda:N.", panel="Compute")]
Dtype = Annotated[str, option("--dtype", metavar="DTYPE", help="float32 or float64.", panel="Compute")]
BatchSize = Annotated[int, option("--batch-size", metavar="N", min=1, help="Points per batch.", panel="Compute")]
#: seeds are 63-bit (what torch's generators take)
MAX_SEED = 2**63 - 1
Seed = Annotated[
    int, option("--seed", metavar="N", min=0, max=MAX_SEED, help="Seed for everything random.", panel="Compute")
]
Quiet = Annotated[bool, flag("--quiet", "-q", help="No progress bar or summary on stderr.")]
Engine = Annotated[
    str | None,
    option(
        "--engine",
        metavar="local|dask",
        panel="Compute",
        help="Run here (local, the default) or as tasks on a Dask cluster (dask; see --scheduler and docs/scale.md).",
    ),
]
Scheduler = Annotated[
    str | None,
    option(
        "--scheduler",
        metavar="ADDRESS|local[:N]",
        panel="Compute",
        help="With --engine dask: a scheduler address (tcp://host:8786), or local[:N] to start N worker processes "
        "here (default: $DASK_SCHEDULER_ADDRESS, else local). Implies --engine dask.",
    ),
]

# -- encoder and net -----------------------------------------------------------------------------------
Params = Annotated[
    list[str] | None,
    option("--param", "-p", metavar="KEY=VALUE", help="Encoder parameter, repeatable (see `geoenc methods`)."),
]
NetParams = Annotated[
    list[str] | None, option("--net-param", "-n", metavar="KEY=VALUE", help="Net parameter, repeatable.")
]


def parse_key_values(items: list[str] | None, flag_name: str = "-p") -> dict[str, str]:
    """``["a=1", "b=x"]`` → ``{"a": "1", "b": "x"}``; a malformed or repeated key is a usage error."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag_name} takes KEY=VALUE, got {item!r}")
        if key.strip() in out:
            raise UsageError(f"{flag_name} {key.strip()} is given twice: give each parameter once")
        out[key.strip()] = value.strip()
    return out


# -- the input option group ------------------------------------------------------------------------------
class PointsInput(typing.NamedTuple):
    """How to read a points input: its format (None = from the name or the bytes) and coordinate options."""

    format: str | None
    crs: str | None = None
    centroid: bool = False
    wrap_lon: bool = False
    lon_col: str | None = None
    lat_col: str | None = None
    geometry_col: str | None = None
    encoding: str | None = None

    @property
    def coords(self) -> CoordOptions:
        from geoenc.io.coords import CoordOptions  # imported when a command runs: keeps `geoenc --help` fast

        return CoordOptions(
            crs=self.crs,
            centroid=self.centroid,
            wrap_lon=self.wrap_lon,
            lon_col=self.lon_col,
            lat_col=self.lat_col,
            geometry_col=self.geometry_col,
            encoding=self.encoding,
        )


def _kw(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


_INPUT_PARAMS = [
    _kw(
        "format",
        None,
        Annotated[
            str | None,
            option(
                "--format",
                metavar="FORMAT",
                panel=_IN,
                help="Input format: parquet, geojson, ndjson or csv (default: from the suffix, else sniffed).",
            ),
        ],
    ),
    _kw(
        "lon_col",
        None,
        Annotated[
            str | None,
            option(
                "--lon-col", metavar="NAME", panel=_IN, help="Longitude column (default: lon, lng, longitude, x …)."
            ),
        ],
    ),
    _kw(
        "lat_col",
        None,
        Annotated[
            str | None,
            option("--lat-col", metavar="NAME", panel=_IN, help="Latitude column (default: lat, latitude, y …)."),
        ],
    ),
    _kw(
        "geometry_col",
        None,
        Annotated[
            str | None,
            option("--geometry-col", metavar="NAME", panel=_IN, help="A WKT/WKB geometry column to read points from."),
        ],
    ),
    _kw(
        "crs",
        None,
        Annotated[
            str | None,
            option(
                "--crs",
                metavar="CRS",
                panel=_IN,
                help="CRS of the input coordinates when the file does not say (CSV: default lon/lat WGS84), "
                "e.g. EPSG:3857.",
            ),
        ],
    ),
    _kw(
        "centroid",
        False,
        Annotated[bool, flag("--centroid", panel=_IN, help="Use a representative point of non-point geometries.")],
    ),
    _kw(
        "wrap_lon",
        False,
        Annotated[
            bool, flag("--wrap-lon", panel=_IN, help="Wrap longitudes outside [-180, 180] instead of refusing them.")
        ],
    ),
    _kw(
        "encoding",
        None,
        Annotated[
            str | None,
            option(
                "--encoding",
                metavar="CODEC",
                panel=_IN,
                help=(
                    "Text encoding of a CSV/GeoJSON input that is not UTF-8, e.g. cp1252 (gzip and UTF-16/32 with a "
                    "byte-order mark are recognised without it)."
                ),
            ),
        ],
    ),
]


def points_input(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the input options; it receives them as one ``points: PointsInput`` argument.

    The command declares ``points: PointsInput`` (without a default); the input options appear in its help
    under "Input", and their values reach it bundled (format + :class:`~geoenc.io.CoordOptions`).
    """
    sig = inspect.signature(command)
    hints = typing.get_type_hints(command, include_extras=True)
    own = [p.replace(annotation=hints[p.name]) for p in sig.parameters.values() if p.name != "points"]

    @functools.wraps(command)
    def wrapper(*args: Any, **kw: Any) -> Any:
        return command(*args, points=PointsInput(**{p.name: kw.pop(p.name) for p in _INPUT_PARAMS}), **kw)

    params = own + _INPUT_PARAMS
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper


# -- --engine / --scheduler and datasets ------------------------------------------------------------------------


def dataset_run(source: str, engine: str | None, scheduler: str | None) -> bool:
    """True when a command runs partition by partition: a dataset input, or a Parquet file with --engine dask."""
    from geoenc.io.dataset import is_dataset
    from geoenc.workflows.distributed import resolve_engine

    return is_dataset(source) or resolve_engine(engine, scheduler) == "dask"


@contextlib.contextmanager
def open_engine(engine: str | None, scheduler: str | None, quiet: bool) -> Iterator[Any]:
    """The mapper of ``--engine``/``--scheduler`` (None = this process), with its cluster for the command."""
    from geoenc.cli.progress import note
    from geoenc.workflows.distributed import engine as open_

    with open_(engine, scheduler, log=lambda msg: note(msg, quiet)) as mapper:
        yield mapper


def dataset_output_format(fmt: str | None) -> None:
    if fmt is not None and fmt.strip().lower() not in ("parquet", "geoparquet"):
        raise UsageError(f"a dataset is written as GeoParquet files: leave out --output-format {fmt}")


def dataset_summary(res: Any) -> str:
    """``"1,234 points in 7 of 20 partitions (13 already complete)"``."""
    text = f"{res.rows:,} points in {res.written} of {res.partitions} partitions"
    return text + (f" ({res.skipped} already complete)" if res.skipped else "")


def engine_progress(
    update: Callable[..., None],
    shown: tuple[str, ...] = ("train_loss", "val_top1", "val_rmse", "val_mrr", "val_loss", "val_mse"),
) -> Callable[[Any], None]:
    """Turn the training engine's progress events into progress-bar updates (train, pretrain, autoencode)."""
    state = {"steps": 1}

    def on_progress(ev: Any) -> None:
        if ev.kind == "start":
            state["steps"] = max(ev.steps, 1)
        total = ev.epochs * state["steps"]
        if ev.kind == "batch":
            update(ev.epoch * state["steps"] + ev.step, total, epoch=ev.epoch + 1)
        elif ev.kind == "epoch":
            fields = {k: v for k, v in ev.metrics.items() if k in shown}
            update(ev.epoch * state["steps"], total, epoch=ev.epoch, **fields)

    return on_progress

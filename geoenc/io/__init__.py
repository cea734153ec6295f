"""Reading and writing points: GeoParquet, GeoJSON, CSV and stdin/stdout. Imports neither torch nor typer."""

from geoenc.io.coords import CoordOptions
from geoenc.io.points import Points, concat_points
from geoenc.io.read import PointStream, open_points, read_points, read_stdin
from geoenc.io.write import AtomicFile, PointWriter, check_output, write_points

__all__ = [
    "AtomicFile",
    "CoordOptions",
    "PointStream",
    "PointWriter",
    "Points",
    "check_output",
    "concat_points",
    "open_points",
    "read_points",
    "read_stdin",
    "write_points",
]

"""Reading and writing points: GeoParquet, GeoJSON, CSV and stdin/stdout. Imports neither torch nor typer."""

from geoenc.io.atomic import AtomicDir, AtomicFile, Outputs, check_output, check_output_dir
from geoenc.io.coords import CoordOptions
from geoenc.io.points import Points, concat_points
from geoenc.io.read import PointStream, open_points, read_points, read_stdin
from geoenc.io.write import PointWriter, write_points

__all__ = [
    "AtomicDir",
    "AtomicFile",
    "CoordOptions",
    "Outputs",
    "PointStream",
    "PointWriter",
    "Points",
    "check_output",
    "check_output_dir",
    "concat_points",
    "open_points",
    "read_points",
    "read_stdin",
    "write_points",
]

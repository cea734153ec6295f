"""Writing points with new columns as GeoParquet 1.1 or CSV, streamed and atomic.

:class:`PointWriter` takes batches (lon, lat, the input's attributes, new columns) and writes them to
a temporary file beside the destination, renamed into place only when :meth:`PointWriter.close`
succeeds: a failed run leaves no half-written output. ``-`` writes to stdout (Parquet is refused
when stdout is a terminal).

GeoParquet layout (see docs/formats.md): the input's attribute columns, float64 ``lon``/``lat``, the
new columns (an embedding as ``fixed_size_list<float32>[D]``, or ``emb_0…`` with ``layout="columns"``),
a WKB ``geometry`` column described by ``geo`` metadata (version 1.1.0, OGC:CRS84), and the GeoParquet
1.1 ``bbox`` covering column (struct of float64 xmin/ymin/xmax/ymax) that lets readers skip row groups
by their statistics. The file-level ``bbox`` in ``geo`` is computed over all batches and written into
the footer at close. Provenance goes under the ``geoenc`` metadata key as JSON. Compression: zstd.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from geoenc.errors import OutputError, UsageError
from geoenc.io.atomic import AtomicFile, check_output, open_target
from geoenc.io.formats import OUTPUT_FORMATS, check_format, format_from_path

if TYPE_CHECKING:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

LAYOUTS = ("list", "columns")
#: the GeoParquet 1.1 covering column written beside ``geometry``
BBOX_COLUMN = "bbox"
BBOX_FIELDS = ("xmin", "ymin", "xmax", "ymax")


def _crs84_projjson() -> dict[str, Any]:
    from pyproj import CRS

    return CRS("OGC:CRS84").to_json_dict()


def geo_metadata(bbox: list[float] | None = None, covering: str | None = None) -> dict[str, Any]:
    """The GeoParquet 1.1 ``geo`` metadata for a WKB point column named ``geometry`` in OGC:CRS84.

    ``bbox``: ``[xmin, ymin, xmax, ymax]`` of all points; ``covering``: the name of a bbox struct column.
    """
    col: dict[str, Any] = {"encoding": "WKB", "geometry_types": ["Point"], "crs": _crs84_projjson()}
    if bbox is not None:
        col["bbox"] = [float(v) for v in bbox]
    if covering is not None:
        col["covering"] = {"bbox": {f: [covering, f] for f in BBOX_FIELDS}}
    return {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": col}}


def bbox_covering(lon: np.ndarray, lat: np.ndarray) -> pa.StructArray:
    """The GeoParquet 1.1 bbox covering of points: a struct of float64 xmin/ymin/xmax/ymax (min = max)."""
    x, y = pa.array(lon, pa.float64()), pa.array(lat, pa.float64())
    return pa.StructArray.from_arrays([x, y, x, y], names=list(BBOX_FIELDS))


def wkb_points(lon: np.ndarray, lat: np.ndarray) -> pa.Array:
    """Little-endian WKB points built directly from coordinates (21 bytes each, no per-point objects)."""
    n = lon.shape[0]
    rec = np.empty(n, dtype=[("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
    rec["order"] = 1
    rec["type"] = 1
    rec["x"] = lon
    rec["y"] = lat
    offsets = np.arange(0, 21 * (n + 1), 21, dtype=np.int32)
    return pa.BinaryArray.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(rec.tobytes())])


def embedding_array(values: np.ndarray) -> pa.FixedSizeListArray:
    """An (N, D) float array as ``fixed_size_list<float>[D]``."""
    values = np.ascontiguousarray(values)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])


def flat_names(name: str, dim: int) -> list[str]:
    """Column names of a 2-D column written one column per dimension: ``emb_0…`` for ``embedding``, else
    ``<name>_0…``."""
    prefix = "emb" if name == "embedding" else name
    return [f"{prefix}_{j}" for j in range(dim)]


def resolve_output_format(dest: str | Path, fmt: str | None) -> str:
    if fmt is not None:
        return check_format(fmt, OUTPUT_FORMATS, "output format")
    if str(dest) == "-":
        return "parquet"
    found = format_from_path(dest, OUTPUT_FORMATS)
    if found is None:
        raise UsageError(
            f"cannot tell the output format from {str(dest)!r}: use a .parquet or .csv name, or --output-format"
        )
    return found


def _dictionary_columns(schema: pa.Schema) -> bool | list[str]:
    """Parquet leaf columns to dictionary-encode: all but the bbox covering's (pyarrow's default otherwise).

    The covering holds one distinct float per point: trying a dictionary on it only costs time (it doubled
    the time to write a million random points; docs/formats.md).
    """
    if BBOX_COLUMN not in schema.names:
        return True
    import io

    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_metadata(schema.remove_metadata(), buf)  # the Parquet leaf paths pyarrow will write
    leaves = pq.read_metadata(io.BytesIO(buf.getvalue())).schema
    prefix = f"{BBOX_COLUMN}."
    return [leaves.column(i).path for i in range(len(leaves)) if not leaves.column(i).path.startswith(prefix)]


class PointWriter:
    """Stream batches of points and new columns into GeoParquet or CSV, atomically.

    Use as a context manager: on an exception the partial output is discarded. ``dest`` is a path,
    ``-`` for stdout, or an :class:`~geoenc.io.atomic.AtomicFile` of an :class:`~geoenc.io.atomic.Outputs`
    group (then the group commits the file together with the command's other outputs).
    """

    def __init__(
        self,
        dest: str | Path | AtomicFile,
        fmt: str | None = None,
        *,
        overwrite: bool = False,
        layout: str = "list",
        metadata: Mapping[str, Any] | None = None,
        geometry: bool = True,
        inputs: Iterable[object] = (),
    ) -> None:
        if not isinstance(dest, AtomicFile):
            check_output(dest, overwrite, inputs=inputs)  # a bad destination is named before a bad format
        self.fmt = resolve_output_format(dest.dest if isinstance(dest, AtomicFile) else dest, fmt)
        if layout not in LAYOUTS:
            raise UsageError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
        if self.fmt == "csv":
            layout = "columns"
        self.layout = layout
        #: provenance written under the ``geoenc`` key; may still change until :meth:`close` (e.g. metrics)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.geometry = geometry and self.fmt == "parquet"
        self.dest = str(dest.dest if isinstance(dest, AtomicFile) else dest)
        self.rows = 0
        self.bbox: list[float] | None = None  # [xmin, ymin, xmax, ymax] of the points written so far
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        self._schema: pa.Schema | None = None
        if self.dest == "-":
            if sys.stdout is None:
                raise OutputError("stdout is closed: give an output file with -o")
            if self.fmt == "parquet" and sys.stdout.isatty():
                raise OutputError(
                    "refusing to write binary Parquet to a terminal: redirect stdout or use --output-format csv"
                )
            self._atomic: AtomicFile | None = None
            self._own = False
            self._sink = pa.PythonFile(sys.stdout.buffer, mode="w")
        else:
            self._atomic, self._own = open_target(dest, overwrite, inputs)
            self._sink = str(self._atomic.path)

    # -- building one batch's table ----------------------------------------------------------------
    def _table(self, lon: np.ndarray, lat: np.ndarray, attrs: pa.Table | None, columns: Mapping[str, Any]) -> pa.Table:
        new: dict[str, pa.Array] = {"lon": pa.array(lon, pa.float64()), "lat": pa.array(lat, pa.float64())}
        for name, values in columns.items():
            if isinstance(values, np.ndarray) and values.ndim == 2:
                if self.layout == "list":
                    new[name] = embedding_array(values)
                else:
                    for j, flat in enumerate(flat_names(name, values.shape[1])):
                        new[flat] = pa.array(values[:, j])
            else:
                new[name] = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
        if self.geometry:
            new["geometry"] = wkb_points(lon, lat)
            new[BBOX_COLUMN] = bbox_covering(lon, lat)
        base = attrs if attrs is not None else None
        if base is not None:
            clash = [c for c in base.column_names if c in new]
            base = base.drop_columns(clash) if clash else base
            arrays = list(base.columns) + list(new.values())
            names = base.column_names + list(new.keys())
        else:
            arrays, names = list(new.values()), list(new.keys())
        return pa.Table.from_arrays(arrays, names=names)

    @staticmethod
    def _csv_safe(table: pa.Table) -> pa.Table:
        """CSV cells are text: nested columns (lists, structs) of the input become JSON strings."""
        for i, f in enumerate(table.schema):
            t = f.type
            if (
                pa.types.is_list(t)
                or pa.types.is_large_list(t)
                or pa.types.is_fixed_size_list(t)
                or pa.types.is_struct(t)
                or pa.types.is_map(t)
            ):
                text = pa.array(
                    [None if v is None else json.dumps(v, default=str) for v in table.column(i).to_pylist()],
                    pa.string(),
                )
                table = table.set_column(i, f.name, text)
        return table

    def _schema_metadata(self, schema: pa.Schema) -> pa.Schema:
        meta = dict(schema.metadata or {})
        meta.pop(b"geo", None)
        meta.pop(b"pandas", None)
        if self.geometry:
            meta[b"geo"] = json.dumps(geo_metadata(self.bbox, BBOX_COLUMN)).encode()
        if self.metadata:
            meta[b"geoenc"] = json.dumps(self.metadata, sort_keys=True, default=str).encode()
        return schema.with_metadata(meta)

    def write(
        self, lon: np.ndarray, lat: np.ndarray, attrs: pa.Table | None = None, columns: Mapping[str, Any] | None = None
    ) -> None:
        table = self._table(np.asarray(lon, np.float64), np.asarray(lat, np.float64), attrs, columns or {})
        if self.fmt == "csv":
            table = self._csv_safe(table)
        if self._writer is None or self._schema is None:
            self._writer, self._schema = self._open(table.schema)
        elif not table.schema.equals(self._schema, check_metadata=False):
            try:
                table = table.cast(self._schema.remove_metadata() if self.fmt == "csv" else self._schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
                raise OutputError(
                    "the input's columns change type between batches; convert the input to one schema first"
                ) from None
        self._writer.write_table(table if self.fmt == "csv" else table.replace_schema_metadata(self._schema.metadata))
        self.rows += table.num_rows
        if self.geometry and table.num_rows:
            self._grow_bbox(np.asarray(lon, np.float64), np.asarray(lat, np.float64))

    def _grow_bbox(self, lon: np.ndarray, lat: np.ndarray) -> None:
        box = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
        if self.bbox is not None:
            old = self.bbox
            box = [min(box[0], old[0]), min(box[1], old[1]), max(box[2], old[2]), max(box[3], old[3])]
        self.bbox = box

    def _open(self, schema: pa.Schema) -> tuple[pq.ParquetWriter | pacsv.CSVWriter, pa.Schema]:
        """The writer of the output and the schema it writes (Parquet: with the ``geo`` and provenance metadata)."""
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            schema = self._schema_metadata(schema)
            return pq.ParquetWriter(
                self._sink, schema, compression="zstd", use_dictionary=_dictionary_columns(schema)
            ), schema
        import pyarrow.csv as pacsv

        return pacsv.CSVWriter(self._sink, schema), schema

    def _finalise_metadata(self) -> None:
        """Write the metadata as it stands at the end: the file-level bbox and the provenance (metrics …).

        Parquet keeps key-value metadata in the footer, written at close; the Arrow schema stored there
        (``ARROW:schema``) is replaced too, so readers that use it see the final metadata as well.
        """
        if self.fmt != "parquet" or self._schema is None or self._writer is None:
            return
        final = self._schema_metadata(self._schema)
        if final.metadata == self._schema.metadata:
            return
        meta = {k.decode(): v.decode() for k, v in final.metadata.items()}
        meta["ARROW:schema"] = base64.b64encode(final.serialize().to_pybytes()).decode()
        self._writer.add_key_value_metadata(meta)

    def close(self) -> None:
        if self._writer is None:
            raise OutputError("nothing was written: the input had no points")
        self._finalise_metadata()
        self._writer.close()
        if self._atomic is None:
            sys.stdout.buffer.flush()
        elif self._own:
            self._atomic.commit()

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):  # the file is being thrown away anyway
                self._writer.close()
        if self._atomic is not None and self._own:
            self._atomic.discard()

    def __enter__(self) -> PointWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_points(
    dest: str | Path | AtomicFile,
    lon: np.ndarray,
    lat: np.ndarray,
    attrs: pa.Table | None = None,
    columns: Mapping[str, Any] | None = None,
    *,
    fmt: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    layout: str = "list",
) -> None:
    """Write one table of points and new columns (see :class:`PointWriter`)."""
    with PointWriter(dest, fmt, overwrite=overwrite, layout=layout, metadata=metadata) as w:
        w.write(lon, lat, attrs, columns)

"""Reading points from GeoParquet, GeoJSON (FeatureCollection or newline-delimited), CSV, or stdin.

An input is a local path, ``-`` (stdin), or a URL (http(s), s3, gs, az/abfs, file; see
:mod:`geoenc.io.remote`): remote files are read by byte ranges, Parquet row group by row group.

Readers yield :class:`~geoenc.io.points.Points` batches so that large inputs stream with bounded
memory; :func:`read_points` joins the batches for callers that need everything at once (training).
Every problem with the input becomes a one-line :class:`~geoenc.errors.InputError`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Union

import numpy as np
import pyarrow as pa

from geoenc.errors import InputError, UsageError
from geoenc.io.columns import list_names
from geoenc.io.coords import (
    CoordOptions,
    numeric_column,
    parse_crs,
    points_from_geometries,
    to_lonlat,
    validate_lonlat,
)
from geoenc.io.formats import INPUT_FORMATS, check_format, format_from_path, sniff_format
from geoenc.io.points import Points, concat_points
from geoenc.io.remote import display_source, file_url_path, open_url, url_path, url_scheme
from geoenc.io.text import ByteStream, Utf8Reader, decompressed, source_encoding, strip_compression_suffix

if TYPE_CHECKING:
    import pyarrow.parquet as pq

Source = Union[str, Path, BinaryIO, bytes]  # noqa: UP007 - a runtime alias (3.10 has no `type` statement)

LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
GEOMETRY_NAMES = ("geometry", "wkt", "geom", "the_geom")
DEFAULT_BATCH_ROWS = 65_536


def read_stdin() -> io.BytesIO:
    """All of stdin as a seekable buffer (Parquet keeps its footer at the end, so it must be buffered)."""
    return io.BytesIO(sys.stdin.buffer.read())


def _display(source: Source) -> str:
    if isinstance(source, (str, Path)):
        return "stdin" if str(source) == "-" else display_source(source)
    return "stdin"


def _suffix_hint(source: Source) -> str | None:
    """The name whose suffix may tell the format: a local path, or the path part of a URL."""
    if isinstance(source, str) and url_scheme(source):
        return url_path(source)
    if isinstance(source, (str, Path)) and str(source) != "-":
        return str(source)
    return None


def _open(source: Source) -> str | ByteStream:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if isinstance(source, (str, Path)):
        if str(source) == "-":
            return read_stdin()
        if isinstance(source, str):
            scheme = url_scheme(source)
            if scheme == "file":
                source = file_url_path(source)
            elif scheme is not None:
                return open_url(source)
        path = Path(source)
        if not path.exists():
            raise InputError(f"input file {str(path)!r} does not exist")
        if path.is_dir():
            raise InputError(f"input {str(path)!r} is a directory, not a file of points")
        return str(path)
    source.seek(0)
    return source


def _head(handle: str | ByteStream, n: int = 4096) -> bytes:
    if isinstance(handle, str):
        with open(handle, "rb") as f:
            return f.read(n)
    pos = handle.tell()
    data = handle.read(n)
    handle.seek(pos)
    return data


@dataclass
class PointStream:
    """An input opened for reading: iterate it for :class:`Points` batches."""

    handle: str | ByteStream
    name: str
    format: str
    opts: CoordOptions
    batch_rows: int = DEFAULT_BATCH_ROWS
    total_rows: int | None = None
    #: Parquet only: read just these row groups (a chunk of a big file, see geoenc.io.dataset); the rows before
    #: them number ``first_row``, so offsets and messages count rows of the whole file
    row_groups: list[int] | None = None
    first_row: int = 0

    def __iter__(self) -> Iterator[Points]:
        if not isinstance(self.handle, str):
            self.handle.seek(0)
        reader = {"parquet": _iter_parquet, "csv": _iter_csv, "geojson": _iter_geojson, "ndjson": _iter_ndjson}[
            self.format
        ]
        n = 0
        for batch in reader(self):
            n += len(batch)
            if len(batch):
                yield batch
        if n == 0:
            raise InputError(f"{self.name} holds no points: the input is empty")


def open_points(
    source: Source, fmt: str | None = None, opts: CoordOptions | None = None, batch_rows: int = DEFAULT_BATCH_ROWS
) -> PointStream:
    """Open an input of points; the format comes from ``fmt``, else the file suffix, else the first bytes."""
    opts = opts or CoordOptions()
    if opts.crs is not None:
        parse_crs(opts.crs)  # fail early on an unknown CRS
    if (opts.lon_col is None) != (opts.lat_col is None):
        raise UsageError("give both --lon-col and --lat-col, or neither")
    name = _display(source)
    handle = _open(source)
    if fmt is not None:
        fmt = check_format(fmt, INPUT_FORMATS, "input format")
    else:
        hint = _suffix_hint(source)
        fmt = None if hint is None else format_from_path(strip_compression_suffix(hint), INPUT_FORMATS)
    if fmt != "parquet":  # text (or not known yet): gzip read transparently, transcoded to UTF-8 if needed
        handle = decompressed(handle)
        head = _head(handle, 65536)
        if fmt is None and head.startswith(b"PAR1"):
            fmt = "parquet"
        else:
            encoding = source_encoding(head, opts.encoding, name)
            if encoding is not None:
                raw = open(handle, "rb") if isinstance(handle, str) else handle  # noqa: SIM115 - lives with the stream
                handle = Utf8Reader(raw, encoding, name)
                head = _head(handle, 65536)
            if fmt is None:
                if not head.strip():
                    raise InputError(f"{name} is empty: no points to read")
                fmt = sniff_format(head)
    stream = PointStream(handle, name, fmt, opts, batch_rows)
    if fmt == "parquet":
        stream.total_rows = _parquet_file(stream).metadata.num_rows
    return stream


def read_points(
    source: Source,
    fmt: str | None = None,
    *,
    lon_col: str | None = None,
    lat_col: str | None = None,
    geometry_col: str | None = None,
    crs: str | None = None,
    centroid: bool = False,
    wrap_lon: bool = False,
    opts: CoordOptions | None = None,
) -> Points:
    """Read a whole input of points into memory (see :func:`open_points` to stream)."""
    if opts is None:
        opts = CoordOptions(
            crs=crs, centroid=centroid, wrap_lon=wrap_lon, lon_col=lon_col, lat_col=lat_col, geometry_col=geometry_col
        )
    return concat_points(list(open_points(source, fmt, opts)))


# -- helpers shared by the table readers --------------------------------------------------------------


def _find(names: list[str], wanted: tuple[str, ...]) -> str | None:
    lowered = {n.lower(): n for n in names}
    for w in wanted:
        if w in lowered:
            return lowered[w]
    return None


def _coordinate_columns(names: list[str], opts: CoordOptions, name: str) -> tuple[str, str] | str:
    """(lon, lat) column names, or the name of a WKT/WKB geometry column."""
    if opts.lon_col is not None:
        for col in (opts.lon_col, opts.lat_col):
            if col not in names:
                raise InputError(f"column {col!r} is not in {name} (columns: {list_names(names)})")
        return opts.lon_col, opts.lat_col  # type: ignore[return-value]
    if opts.geometry_col is not None:
        if opts.geometry_col not in names:
            raise InputError(f"column {opts.geometry_col!r} is not in {name} (columns: {list_names(names)})")
        return opts.geometry_col
    lon, lat = _find(names, LON_NAMES), _find(names, LAT_NAMES)
    if lon and lat:
        return lon, lat
    geom = _find(names, GEOMETRY_NAMES)
    if geom:
        return geom
    raise InputError(
        f"found no longitude/latitude columns in {name} (columns: {list_names(names)}): "
        "name them with --lon-col/--lat-col, or a WKT geometry column with --geometry-col"
    )


def _attrs(table: pa.Table | pa.RecordBatch, drop: set[str]) -> pa.Table:
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    keep = [c for c in table.column_names if c not in drop and c not in ("lon", "lat")]
    return table.select(keep)


def _finish(x: np.ndarray, y: np.ndarray, attrs: pa.Table, offset: int, crs: str | None, stream: PointStream) -> Points:
    lon, lat = to_lonlat(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), crs)
    lon = validate_lonlat(lon, lat, offset, stream.opts.wrap_lon)
    return Points(lon=lon, lat=lat, attrs=attrs, offset=offset, source_crs=crs or "OGC:CRS84")


def _geometry_values(
    col: pa.ChunkedArray | pa.Array, offset: int, centroid: bool, name: str
) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    fast = _wkb_points_fast(arr)
    if fast is not None:
        return fast
    values = arr.to_numpy(zero_copy_only=False)
    try:
        if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
            geoms = shapely.from_wkb(values)
        elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            geoms = shapely.from_wkt(values)
        else:
            raise InputError(f"geometry column {name!r} has type {arr.type}: expected WKB or WKT")
    except shapely.errors.GEOSException as exc:
        raise InputError(f"geometry column {name!r} has invalid geometries near row {offset + 1}: {exc}") from None
    return points_from_geometries(geoms, offset, centroid)


def _wkb_points_fast(arr: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """x/y straight from the bytes when every value is a 2-D little-endian WKB point (21 bytes), else None."""
    if not pa.types.is_binary(arr.type) or arr.null_count or len(arr) == 0:
        return None
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    if not np.all(np.diff(offsets) == 21):
        return None
    raw = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    rec = raw.view(np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")]))
    if not (np.all(rec["order"] == 1) and np.all(rec["type"] == 1)):
        return None
    return rec["x"].astype(np.float64), rec["y"].astype(np.float64)


def _table_to_points(
    batch: pa.RecordBatch,
    stream: PointStream,
    offset: int,
    crs: str | None,
    coords: tuple[str, str] | str,
    derived: set[str] | None = None,
) -> Points:
    if isinstance(coords, tuple):
        x = numeric_column(batch.column(coords[0]), coords[0], offset)
        y = numeric_column(batch.column(coords[1]), coords[1], offset)
        drop = set(coords)
    else:
        x, y = _geometry_values(batch.column(coords), offset, stream.opts.centroid, coords)
        drop = {coords}
    return _finish(x, y, _attrs(batch, drop | (derived or set())), offset, crs, stream)


# -- Parquet ---------------------------------------------------------------------------------------


def _parquet_file(stream: PointStream) -> pq.ParquetFile:
    import pyarrow.parquet as pq

    try:
        # pre_buffer=False: pyarrow's default (True) reads every row group ahead of the first batch, which holds
        # the whole compressed file in memory (496 MB file: peak RSS 587 MB vs 152 MB; docs/formats.md)
        return pq.ParquetFile(stream.handle, pre_buffer=False)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise InputError(
            f"cannot read {stream.name} as Parquet ({_short(exc)}): is the file complete, and is it Parquet?"
        ) from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _geo_metadata(schema: pa.Schema, name: str) -> dict[str, Any] | None:
    meta = schema.metadata or {}
    if b"geo" not in meta:
        return None
    try:
        geo = json.loads(meta[b"geo"])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{name} has unreadable GeoParquet 'geo' metadata (not JSON)") from None
    columns = geo.get("columns", {}) if isinstance(geo, dict) else None
    primary = geo.get("primary_column", "geometry") if isinstance(geo, dict) else None
    if (
        not isinstance(geo, dict)
        or not isinstance(columns, dict)
        or not isinstance(primary, str)
        or not isinstance(columns.get(primary, {}), dict)
    ):
        raise InputError(
            f"{name} has GeoParquet 'geo' metadata of the wrong shape (it needs an object with a 'primary_column' "
            "name and a 'columns' object): fix the file's metadata, or name --lon-col/--lat-col or --geometry-col"
        )
    return geo


def _covering_columns(col_meta: dict[str, Any]) -> set[str]:
    """Top-level columns a GeoParquet 1.1 ``covering`` names (e.g. ``bbox``): derived from the geometry."""
    covering = col_meta.get("covering") if isinstance(col_meta, dict) else None
    out: set[str] = set()
    if isinstance(covering, dict):
        for spec in covering.values():
            if isinstance(spec, dict):
                for path in spec.values():
                    if isinstance(path, list) and path and isinstance(path[0], str):
                        out.add(path[0])
    return out


def _iter_parquet(stream: PointStream) -> Iterator[Points]:
    pf = _parquet_file(stream)
    schema = pf.schema_arrow
    check_unique(schema.names, stream.name)
    named = stream.opts.lon_col is not None or stream.opts.geometry_col is not None
    geo = None if named else _geo_metadata(schema, stream.name)  # columns named by the user win over metadata
    crs = stream.opts.crs
    coords: tuple[str, str] | str
    derived: set[str] = set()  # covering columns: derived from the geometry, not attributes to carry
    if geo and stream.opts.lon_col is None and stream.opts.geometry_col is None:
        coords = geo.get("primary_column", "geometry")
        col_meta = geo.get("columns", {}).get(coords, {})
        derived = _covering_columns(col_meta) & set(schema.names)
        if coords not in schema.names:
            raise InputError(
                f"{stream.name}: its GeoParquet metadata names a geometry column {coords!r} it does not have"
            )
        encoding = str(col_meta.get("encoding", "WKB")).lower()
        if encoding not in ("wkb", "point"):
            raise InputError(f"{stream.name}: geometry encoding {encoding!r} is not supported (WKB or point)")
        if crs is None and "crs" in col_meta and col_meta["crs"] is not None:
            crs_value = col_meta["crs"]
            crs = json.dumps(crs_value) if isinstance(crs_value, dict) else str(crs_value)
    else:
        coords = _coordinate_columns(schema.names, stream.opts, stream.name)
    crs_text = _crs_text(crs, stream if crs is not stream.opts.crs else None)
    offset = stream.first_row
    try:
        for batch in pf.iter_batches(batch_size=stream.batch_rows, row_groups=stream.row_groups):
            if isinstance(coords, str) and pa.types.is_struct(batch.schema.field(coords).type):
                struct = batch.column(coords)
                x = struct.field("x").to_numpy(zero_copy_only=False).astype(np.float64)
                y = struct.field("y").to_numpy(zero_copy_only=False).astype(np.float64)
                yield _finish(x, y, _attrs(batch, {coords} | derived), offset, crs_text, stream)
            else:
                yield _table_to_points(batch, stream, offset, crs_text, coords, derived)
            offset += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise InputError(
            f"cannot read {stream.name} past row {offset} ({_short(exc)}): is the file truncated?"
        ) from None


def _crs_text(crs: str | None, declared_by: PointStream | None = None) -> str | None:
    """Normalise a CRS given as text/PROJJSON to something pyproj and the WGS84 test understand.

    ``declared_by``: the input whose own metadata names the CRS (an unknown one is then that file's problem,
    exit 1, rather than a bad --crs option).
    """
    if crs is None:
        return None
    try:
        parsed = parse_crs(crs)
    except UsageError:
        if declared_by is None:
            raise
        shown = crs if len(crs) <= 80 else crs[:77] + "..."
        raise InputError(
            f"{declared_by.name} declares a CRS that PROJ does not know ({shown}): fix the file's CRS, or give the "
            "right one with --crs"
        ) from None
    from pyproj import CRS

    if parsed.equals(CRS("OGC:CRS84")):
        return None
    if parsed.to_epsg() == 4326:
        return "EPSG:4326"
    return parsed.to_wkt()


# -- CSV --------------------------------------------------------------------------------------------


def _csv_header(stream: PointStream) -> tuple[list[str], str]:
    size = 65536
    head = _head(stream.handle, size)
    while b"\n" not in head and len(head) == size and size < (64 << 20):  # a very wide header: read all of it
        size *= 4
        head = _head(stream.handle, size)
    text = head.decode("utf-8-sig", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    if not first.strip():
        raise InputError(f"{stream.name} is empty: no header line and no points")
    delimiter = "\t" if first.count("\t") > first.count(",") else ("," if "," in first or ";" not in first else ";")
    names = next(csv.reader([first], delimiter=delimiter))
    return [n.strip() for n in names], delimiter


def _iter_csv(stream: PointStream) -> Iterator[Points]:
    import pyarrow.csv as pacsv

    names, delimiter = _csv_header(stream)
    check_unique(names, stream.name)
    coords = _coordinate_columns(names, stream.opts, stream.name)
    text_cols = coords if isinstance(coords, tuple) else (coords,)
    crs_text = _crs_text(stream.opts.crs)
    source = stream.handle
    if not isinstance(source, str):
        source.seek(0)
    try:
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in text_cols}),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read {stream.name} as CSV ({_short(exc)})") from None
    offset = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read {stream.name} as CSV after row {offset} ({_short(exc)})") from None
        if batch.num_rows == 0:
            continue
        binary = [f.name for f in batch.schema if pa.types.is_binary(f.type)]
        if binary:  # pyarrow keeps a column that is not valid UTF-8 as bytes
            raise InputError(
                f"{stream.name}: column {binary[0]!r} is not UTF-8 text (near row {offset + 1}): if the file is "
                "Latin-1 or Windows-1252 pass --encoding cp1252, or give its encoding with --encoding"
            )
        yield _table_to_points(batch, stream, offset, crs_text, coords)
        offset += batch.num_rows


# -- GeoJSON ----------------------------------------------------------------------------------------


def _features_to_points(features: list[Any], stream: PointStream, offset: int, crs: str | None) -> Points:
    """Points of one batch of GeoJSON features; non-point geometries go through the shared geometry check."""
    from shapely.geometry import shape

    n = len(features)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    props = []
    missing: list[int] = []
    other_rows: list[int] = []
    other_geoms: list[Any] = []  # shapely geometries
    for i, feat in enumerate(features):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise InputError(f"{stream.name}: item {offset + i + 1} is not a GeoJSON Feature")
        properties = feat.get("properties") or {}
        if not isinstance(properties, dict):
            raise InputError(
                f"{stream.name}: feature {offset + i + 1} has 'properties' that are not an object "
                f"({type(properties).__name__})"
            )
        props.append(properties)
        geom = feat.get("geometry")
        if not geom:
            missing.append(i)
        elif not isinstance(geom, dict):
            raise InputError(
                f"{stream.name}: feature {offset + i + 1} has a 'geometry' that is not a GeoJSON object "
                f"({type(geom).__name__})"
            )
        elif geom.get("type") == "Point":
            c = geom.get("coordinates") or []
            if not isinstance(c, list) or len(c) < 2:
                if isinstance(c, list):
                    missing.append(i)
                    continue
                raise InputError(f"{stream.name}: feature {offset + i + 1} has non-numeric coordinates {_brief(c)}")
            if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in c[:2]):
                raise InputError(f"{stream.name}: feature {offset + i + 1} has non-numeric coordinates {_brief(c)}")
            x[i], y[i] = float(c[0]), float(c[1])
        else:
            try:
                other_geoms.append(shape(geom))
            except Exception:  # noqa: BLE001 - shapely raises several kinds for bad GeoJSON
                raise InputError(f"{stream.name}: feature {offset + i + 1} has an invalid geometry") from None
            other_rows.append(i)
    if missing:
        raise InputError(
            f"{len(missing)} feature(s) have a missing or empty geometry; first at row {offset + missing[0] + 1}: "
            "drop those features"
        )
    if other_rows:
        rows = np.asarray(other_rows)
        try:
            gx, gy = points_from_geometries(np.asarray(other_geoms, dtype=object), 0, stream.opts.centroid)
        except InputError:
            raise InputError(
                f"{len(rows)} geometries are not points (first at row {offset + rows[0] + 1}: "
                f"{other_geoms[0].geom_type}); pass --centroid to use a representative point of each"
            ) from None
        x[rows], y[rows] = gx, gy
    try:
        attrs = pa.Table.from_pylist(props)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # properties whose type changes between features are kept as JSON text
        attrs = pa.Table.from_pylist([{k: (None if v is None else json.dumps(v)) for k, v in p.items()} for p in props])
    if attrs.num_columns == 0:
        attrs = _empty_attrs(n)
    return _finish(x, y, _attrs(attrs, set()), offset, crs, stream)


def _empty_attrs(n: int) -> pa.Table:
    """A table of n rows and no columns (pyarrow needs a column to carry a row count)."""
    return pa.table({"_": pa.nulls(n)}).drop_columns(["_"])


def _geojson_crs(doc: dict[str, Any], stream: PointStream) -> str | None:
    if stream.opts.crs is not None:
        return _crs_text(stream.opts.crs)
    member = doc.get("crs")
    props = member.get("properties") if isinstance(member, dict) else None
    named = props.get("name") if isinstance(props, dict) else None
    if named is not None and not isinstance(named, str):
        raise InputError(f"{stream.name}: its 'crs' member names {named!r}, not a CRS: fix it, or give --crs")
    return _crs_text(named, stream) if named else None


def _load_json(stream: PointStream) -> Any:
    try:
        if isinstance(stream.handle, str):
            with open(stream.handle, "rb") as f:
                return json.load(f)
        stream.handle.seek(0)
        return json.load(stream.handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {stream.name} as GeoJSON: {exc.__class__.__name__} at {_short(exc)}") from None


def _iter_geojson(stream: PointStream) -> Iterator[Points]:
    doc = _load_json(stream)
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features") or []
        if not isinstance(features, list):
            raise InputError(
                f"{stream.name}: 'features' must be a list of GeoJSON Features, got {type(features).__name__}"
            )
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, list):
        features = doc
    else:
        raise InputError(f"{stream.name} is JSON but not a GeoJSON FeatureCollection or Feature")
    crs = _geojson_crs(doc if isinstance(doc, dict) else {}, stream)
    for start in range(0, len(features), stream.batch_rows):
        yield _features_to_points(features[start : start + stream.batch_rows], stream, start, crs)


def _iter_ndjson(stream: PointStream) -> Iterator[Points]:
    crs = _crs_text(stream.opts.crs)
    handle = open(stream.handle, "rb") if isinstance(stream.handle, str) else stream.handle  # noqa: SIM115 - closed below
    try:
        batch: list[Any] = []
        offset = 0
        for lineno, raw in enumerate(handle, start=1):
            line = raw.strip().lstrip(b"\x1e")  # RFC 8142 record separators
            if not line:
                continue
            try:
                batch.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise InputError(f"cannot read {stream.name}: line {lineno} is not a JSON object") from None
            if len(batch) >= stream.batch_rows:
                yield _features_to_points(batch, stream, offset, crs)
                offset += len(batch)
                batch = []
        if batch:
            yield _features_to_points(batch, stream, offset, crs)
    finally:
        if isinstance(stream.handle, str):
            handle.close()


__all__ = ["CoordOptions", "PointStream", "open_points", "read_points", "read_stdin"]


def check_unique(names: list[str], source: str) -> None:
    """Refuse an input with two columns of the same name (which one would be meant?)."""
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InputError(f"{source} has two columns named {n!r}: rename one")
        seen.add(n)


def _brief(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

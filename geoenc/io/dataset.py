"""Partitioned datasets: a folder, a glob or a hive-partitioned tree of (Geo)Parquet files read as one input.

A dataset is what dask, pyarrow and geopandas read as one table: every ``*.parquet`` (``.pq``, ``.geoparquet``)
file under a folder (recursively, ``key=value`` hive folders included), or every file a glob pattern matches;
names starting with ``.`` or ``_`` are skipped (``_metadata``, ``_common_metadata``, ``_SUCCESS``, temporary
files), as pyarrow does. Partitions are taken in sorted path order, so their order (and the row order of the
whole dataset) is the same on every machine.

A dataset in gives a dataset out: one output file per input partition, at the same relative path under the
output folder (hive folders are kept, so their keys read back the same), each written atomically. Each output
records in its ``geoenc`` metadata where it came from (:data:`MARKER_KEY`: the input partition's relative path,
size and modification time, and a hash of the settings), so a re-run skips partitions whose output is complete
and matches, and redoes the rest. When every partition is complete the folder also gets ``_common_metadata``
(the schema with the ``geo`` key) and ``_metadata`` (every file's row groups), the dataset-level metadata that
dask and pyarrow read.

Pure pyarrow: no torch, no dask.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from geoenc.errors import InputError, OutputError, UsageError

PARQUET_SUFFIXES = (".parquet", ".pq", ".geoparquet")
#: the entry of an output file's ``geoenc`` metadata that says which input partition (and settings) it holds
MARKER_KEY = "partition"
#: dataset-level metadata files (written when every partition is complete)
METADATA_FILES = ("_metadata", "_common_metadata")
#: rows per task when one big file is split into chunks of row groups
CHUNK_ROWS = 1_000_000
_GLOB_CHARS = re.compile(r"[*?\[]")
_TEMP = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]+\.part$")


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def is_dataset(source: object) -> bool:
    """True for a folder or a glob pattern (a path with ``*``, ``?`` or ``[``); False for a file, stdin, bytes."""
    if not isinstance(source, (str, os.PathLike)):
        return False
    text = os.fspath(source)
    if text == "-" or "://" in text:
        return False
    return Path(text).is_dir() or (bool(_GLOB_CHARS.search(text)) and not Path(text).exists())


@dataclass(frozen=True)
class Partition:
    """One file of a dataset: its path, its path relative to the dataset root, and what identifies its bytes."""

    path: str
    relpath: str
    size: int
    mtime_ns: int
    hive: dict[str, str] = field(default_factory=dict)
    #: a chunk of one big file: its row groups [start, stop) and the number of rows before them
    row_groups: tuple[int, int] | None = None
    first_row: int = 0

    def marker(self, settings: str) -> dict[str, Any]:
        """What an output written from this partition with these ``settings`` records (see :data:`MARKER_KEY`)."""
        out: dict[str, Any] = {
            "source": self.relpath if self.row_groups is None else Path(self.path).name,
            "source_bytes": self.size,
            "source_mtime_ns": self.mtime_ns,
            "settings": settings,
        }
        if self.row_groups is not None:
            out["row_groups"] = list(self.row_groups)
        return out


@dataclass
class Dataset:
    """The partitions of a dataset, in sorted order, and the root their relative paths start from."""

    source: str
    root: str
    partitions: list[Partition]
    #: True for one big file split into chunks of row groups
    single_file: bool = False

    @property
    def name(self) -> str:
        return self.source

    def paths(self) -> list[str]:
        return [p.path for p in self.partitions]


def _hive_keys(relpath: str) -> dict[str, str]:
    keys = {}
    for part in Path(relpath).parts[:-1]:
        key, sep, value = part.partition("=")
        if sep and key:
            keys[key] = value
    return keys


def _glob_root(pattern: str) -> str:
    """The longest leading folder of a glob pattern without wildcards (relative paths start there)."""
    parts = Path(pattern).parts
    fixed = []
    for p in parts[:-1]:
        if _GLOB_CHARS.search(p):
            break
        fixed.append(p)
    return str(Path(*fixed)) if fixed else "."


def chunk_file(path: str | os.PathLike[str], chunk_rows: int | None = None) -> Dataset:
    """One big Parquet file as a dataset of chunks: consecutive row groups of at least ``chunk_rows`` rows each.

    The chunks depend only on the file (not on the cluster), so a re-run finds the same ones. Output names are
    ``part-00000.parquet`` …
    """
    import pyarrow.parquet as pq

    text = os.fspath(path)
    chunk_rows = chunk_rows or CHUNK_ROWS
    if Path(text).suffix.lower() not in PARQUET_SUFFIXES:
        raise InputError(
            f"{text!r} is not a Parquet file: only Parquet files (or datasets of them) run as tasks; convert it "
            "to GeoParquet first, or leave out --engine dask"
        )
    try:
        md = pq.ParquetFile(text).metadata
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise InputError(f"cannot read {text!r} as Parquet ({str(exc).strip()[:200]}): is the file complete?") from None
    st = os.stat(text)
    parts: list[Partition] = []
    start, first, rows = 0, 0, 0
    for g in range(md.num_row_groups):
        rows += md.row_group(g).num_rows
        if rows >= chunk_rows or g == md.num_row_groups - 1:
            name = f"part-{len(parts):05d}.parquet"
            parts.append(Partition(text, name, st.st_size, st.st_mtime_ns, {}, (start, g + 1), first))
            start, first, rows = g + 1, first + rows, 0
    if not parts:
        raise InputError(f"{text} holds no points: the input is empty")
    return Dataset(text, str(Path(text).parent), parts, single_file=True)


def discover(source: str | os.PathLike[str]) -> Dataset:
    """The partitions of a folder (recursive) or a glob pattern; one-line errors for an empty or missing one.

    A single Parquet file is split into chunks of row groups (:func:`chunk_file`).
    """
    text = os.fspath(source)
    if Path(text).is_file():
        return chunk_file(text)
    if Path(text).is_dir():
        root = text
        files = [
            str(p)
            for p in Path(text).rglob("*")
            if p.is_file()
            and p.suffix.lower() in PARQUET_SUFFIXES
            and not any(_hidden(part) for part in p.relative_to(text).parts)
        ]
        if not files:
            raise InputError(f"folder {text!r} holds no Parquet files (*.parquet, *.pq, *.geoparquet)")
    elif _GLOB_CHARS.search(text):
        root = _glob_root(text)
        matches = glob.glob(text, recursive=True)
        files = [m for m in matches if Path(m).is_file() and not _hidden(Path(m).name)]
        if not files:
            raise InputError(f"no files match {text!r}: check the pattern (quote it so the shell does not expand it)")
        odd = [f for f in files if Path(f).suffix.lower() not in PARQUET_SUFFIXES]
        if odd:
            raise InputError(
                f"{odd[0]!r} (matched by {text!r}) is not a Parquet file: a dataset is made of Parquet files only"
            )
    else:
        raise InputError(f"input {text!r} does not exist")
    parts = []
    for f in sorted(files):
        st = os.stat(f)
        rel = os.path.relpath(f, root)
        parts.append(Partition(f, rel, st.st_size, st.st_mtime_ns, _hive_keys(rel)))
    if len({p.relpath for p in parts}) < len(parts):
        raise InputError(f"{text!r} matches files with the same relative path: give a folder or a narrower pattern")
    return Dataset(text, root, parts)


# -- schemas ---------------------------------------------------------------------------------------------------


def read_schema(path: str) -> pa.Schema:
    """The Arrow schema in a Parquet file's footer (raises InputError naming the file when it is unreadable)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read partition {path!r} as Parquet ({text}): is the file complete?") from None


def check_schemas(dataset: Dataset) -> tuple[pa.Schema | None, dict[str, str]]:
    """Refuse partitions whose columns differ; return the common schema and the partitions that cannot be read.

    Unreadable partitions (a corrupt or truncated footer) are not a reason to stop: they are returned as
    ``{path: message}`` so that the others are still processed and the broken ones named at the end.
    """
    first: tuple[str, pa.Schema] | None = None
    broken: dict[str, str] = {}
    for part in dataset.partitions:
        try:
            schema = read_schema(part.path).remove_metadata()
        except InputError as exc:
            broken[part.path] = str(exc)
            continue
        if first is None:
            first = (part.path, schema)
            continue
        if not schema.equals(first[1]):
            raise InputError(f"partition {part.path!r} {_difference(schema, first[1])} in {first[0]!r}: {_FIX}")
    return (first[1] if first else None), broken


_FIX = "every partition of a dataset needs the same columns and types; rewrite them to one schema"


def _difference(schema: pa.Schema, ref: pa.Schema) -> str:
    for f in ref:
        i = schema.get_field_index(f.name)
        if i < 0:
            return f"has no column {f.name!r}, which is"
        if not schema.field(i).type.equals(f.type):
            return f"has column {f.name!r} as {schema.field(i).type}, but as {f.type}"
    extra = [f.name for f in schema if ref.get_field_index(f.name) < 0]
    if extra:
        return f"has a column {extra[0]!r} that is not"
    return "has its columns in another order than"


# -- outputs ---------------------------------------------------------------------------------------------------


def settings_hash(settings: dict[str, Any]) -> str:
    """A short, stable hash of everything that decides an output's bytes (method, parameters, model hash …)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def output_path(out_dir: str | os.PathLike[str], part: Partition) -> Path:
    """Where a partition's output goes: the same relative path under ``out_dir``, as ``.parquet``."""
    rel = Path(part.relpath)
    return Path(out_dir) / rel.with_suffix(".parquet")


def read_marker(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The :data:`MARKER_KEY` record of an output file, or None when it has none or cannot be read."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        marker: dict[str, Any] | None = json.loads(meta.get(b"geoenc", b"{}")).get(MARKER_KEY)
        return marker
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError, ValueError, AttributeError):
        return None


def check_output_folder(out_dir: str | os.PathLike[str], dataset: Dataset) -> None:
    """Refuse an output folder that is the input, lies inside it, holds it, or has no parent folder."""
    out = Path(out_dir)
    if str(out_dir) in ("", "-"):
        raise UsageError("a dataset is written to a folder: give -o FOLDER, not stdout")
    if out.suffix.lower() in (*PARQUET_SUFFIXES, ".csv") and not out.is_dir():
        raise UsageError(
            f"-o {str(out)!r}: a dataset input writes a dataset, one file per partition; give a folder name"
        )
    if out.exists() and not out.is_dir():
        raise OutputError(f"output {str(out)!r} exists and is not a folder: choose another path")
    if not out.absolute().parent.exists():
        raise OutputError(f"cannot write {str(out)!r}: folder {str(out.absolute().parent)!r} does not exist")
    o = out.resolve()
    if dataset.single_file:
        if o in Path(dataset.source).resolve().parents:
            raise OutputError(f"output folder {str(out)!r} holds the input {dataset.source!r}: write elsewhere")
        return
    root = Path(dataset.root).resolve()
    if o == root or root in o.parents or o in root.parents:
        raise OutputError(
            f"output folder {str(out)!r} and the input {dataset.source!r} overlap: write the dataset elsewhere"
        )


def plan_outputs(
    out_dir: str | os.PathLike[str], dataset: Dataset, settings: str, overwrite: bool
) -> tuple[list[int], list[int]]:
    """Split the partitions into those to (re)do and those whose output is complete and matches (skipped).

    Without ``overwrite`` an existing output written from other input bytes or other settings is refused,
    and so is a Parquet file in the folder that is no partition's output (it would be read as part of the
    dataset). With ``overwrite`` every partition is redone.
    """
    out = Path(out_dir)
    expected = {output_path(out, p).resolve() for p in dataset.partitions}
    if out.is_dir():
        for f in sorted(out.rglob("*")):
            if (
                f.is_file()
                and f.suffix.lower() in PARQUET_SUFFIXES
                and not any(_hidden(x) for x in f.relative_to(out).parts)
                and f.resolve() not in expected
            ):
                raise OutputError(
                    f"output folder {str(out)!r} holds {str(f)!r}, which is not the output of any partition of "
                    f"{dataset.source!r}: remove it or choose another folder"
                )
    todo, done = [], []
    for i, part in enumerate(dataset.partitions):
        dest = output_path(out, part)
        if overwrite or not dest.exists():
            todo.append(i)
            continue
        if dest.is_dir():
            raise OutputError(f"output {str(dest)!r} is a folder: remove it")
        found = read_marker(dest)
        if found == part.marker(settings):
            done.append(i)
            continue
        why = "other settings" if found and found.get("source") == part.relpath else "another input"
        if found and found.get("source") == part.relpath and found.get("settings") == settings:
            why = "an earlier version of the input partition"
        raise OutputError(
            f"output {str(dest)!r} exists but was written from {why}: pass --overwrite to redo the dataset"
        )
    return todo, done


def remove_stale_temporaries(out_dir: str | os.PathLike[str]) -> int:
    """Delete the temporary files (``.NAME.XXXX.part``) a killed run left in the output folder; returns how many."""
    out = Path(out_dir)
    if not out.is_dir():
        return 0
    n = 0
    for f in out.rglob(".*.part"):
        if f.is_file() and _TEMP.match(f.name):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()
                n += 1
    return n


def remove_dataset_metadata(out_dir: str | os.PathLike[str]) -> None:
    """Remove ``_metadata``/``_common_metadata`` (stale as soon as any partition is rewritten)."""
    for name in METADATA_FILES:
        with contextlib.suppress(FileNotFoundError):
            (Path(out_dir) / name).unlink()


def write_dataset_metadata(
    out_dir: str | os.PathLike[str], files: list[Path], extra: dict[str, Any] | None = None
) -> list[str]:
    """Write ``_common_metadata`` (schema, ``geo`` and ``geoenc`` keys) and ``_metadata`` (all row groups).

    The ``geoenc`` key of the dataset-level files drops the per-partition entries (marker, metrics) and adds
    ``extra`` (e.g. the dataset's merged metrics) and the number of partitions and rows. ``_metadata`` is written
    only when every file has the same Parquet schema (otherwise readers fall back to the files' footers).
    Returns the names written. Both are written atomically.
    """
    import pyarrow.parquet as pq

    from geoenc.io.atomic import writing

    out = Path(out_dir)
    if not files:
        return []
    collected = []
    for f in files:
        md = pq.ParquetFile(f).metadata
        md.set_file_path(f.relative_to(out).as_posix())
        collected.append(md)
    first = pq.read_schema(files[0])
    meta = dict(first.metadata or {})
    record = json.loads(meta.get(b"geoenc", b"{}"))
    for key in (MARKER_KEY, "metrics", "metric_parts"):
        record.pop(key, None)
    record.update(extra or {})
    record["dataset"] = {"partitions": len(files), "rows": int(sum(md.num_rows for md in collected))}
    meta[b"geoenc"] = json.dumps(record, sort_keys=True, default=str).encode()
    schema = first.with_metadata(meta)
    written = []
    with writing(out / "_common_metadata", overwrite=True) as tmp:
        pq.write_metadata(schema, tmp)
    written.append("_common_metadata")
    try:
        with writing(out / "_metadata", overwrite=True) as tmp:
            pq.write_metadata(schema, tmp, metadata_collector=collected)
    except (RuntimeError, pa.ArrowInvalid):  # the files' schemas differ: readers use their footers instead
        return written
    written.append("_metadata")
    return written


# -- reading a whole dataset -------------------------------------------------------------------------------------


def read_dataset_points(source: str | os.PathLike[str], opts: Any = None) -> Any:
    """Every point of a dataset in one :class:`~geoenc.io.points.Points` (partitions in sorted order).

    For the commands that need all points at once (``geobias``, ``train``); an unreadable partition is an
    InputError naming it.
    """
    from geoenc.io.points import concat_points
    from geoenc.io.read import read_points

    dataset = discover(source)
    if dataset.single_file:
        return read_points(dataset.source, "parquet", opts=opts)
    _, broken = check_schemas(dataset)
    if broken:
        raise next(InputError(msg) for msg in broken.values())
    return concat_points([read_points(p.path, "parquet", opts=opts) for p in dataset.partitions])


def read_points_or_dataset(source: Any, fmt: str | None = None, opts: Any = None) -> Any:
    """:func:`~geoenc.io.read.read_points`, or :func:`read_dataset_points` for a folder or a glob."""
    from geoenc.io.read import read_points

    if is_dataset(source):
        return read_dataset_points(source, opts)
    return read_points(source, fmt, opts=opts)

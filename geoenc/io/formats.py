"""Input/output format names and how they are guessed from a path or the first bytes of a stream."""

from __future__ import annotations

from pathlib import Path

from geoenc.errors import UsageError

INPUT_FORMATS = ("parquet", "geojson", "ndjson", "csv")
OUTPUT_FORMATS = ("parquet", "csv")

_BY_SUFFIX = {
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".pq": "parquet",
    ".geojson": "geojson",
    ".json": "geojson",
    ".geojsonl": "ndjson",
    ".geojsons": "ndjson",
    ".geojsonseq": "ndjson",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
}


def check_format(fmt: str, allowed: tuple[str, ...], what: str = "format") -> str:
    low = fmt.strip().lower()
    if low == "geoparquet":
        low = "parquet"
    if low in ("geojsonl", "geojsonseq", "jsonl"):
        low = "ndjson"
    if low not in allowed:
        raise UsageError(f"unknown {what} {fmt!r}: choose one of {', '.join(allowed)}")
    return low


def format_from_path(path: str | Path, allowed: tuple[str, ...]) -> str | None:
    """The format implied by a file name's suffix, or None when the suffix says nothing."""
    fmt = _BY_SUFFIX.get(Path(str(path)).suffix.lower())
    return fmt if fmt in allowed else None


def sniff_format(head: bytes) -> str:
    """Guess the format of a stream from its first bytes (Parquet magic, JSON brace, else CSV)."""
    if head.startswith(b"PAR1"):
        return "parquet"
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        # A FeatureCollection names itself near the start; one Feature per line is newline-delimited.
        first_line = stripped.split(b"\n", 1)[0]
        if b"FeatureCollection" in first_line[:200]:
            return "geojson"
        if b'"Feature"' in first_line and first_line.rstrip().endswith(b"}"):
            return "ndjson"
        return "geojson"
    return "csv"

"""Inputs users really have: compressed and non-UTF-8 text, and malformed but parseable files.

Each bad case ends in one line naming the file and what to change (exit 1 or 2), never "internal error"
(the ``cli`` fixture checks that for every call), and leaves no output.
"""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

ROWS = "name,lon,lat\nZürich,8.5,47.4\nSão Paulo,-46.6,-23.5\n"


def _fc(features, **extra) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features, **extra})


def _pt(coords, props=None) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords}, "properties": props or {}}


def _geo_parquet(path, geo) -> None:
    wkb = shapely.to_wkb(shapely.points([1.0], [2.0]))
    t = pa.table({"geometry": pa.array(list(wkb), pa.binary())}).replace_schema_metadata({"geo": geo})
    pq.write_table(t, path)


@pytest.mark.parametrize(
    ("name", "data", "extra"),
    [
        ("utf16.csv", ROWS.encode("utf-16"), []),
        ("bom.csv", ("\ufeff" + ROWS).encode("utf-8"), []),
        ("pts.csv.gz", gzip.compress(ROWS.encode()), []),
        ("gzipped_anyway.csv", gzip.compress(ROWS.encode()), []),
        ("pts.geojson.gz", gzip.compress(_fc([_pt([8.5, 47.4], {"name": "Zürich"})]).encode()), []),
        ("cp1252.csv", ROWS.encode("cp1252"), ["--encoding", "cp1252"]),
        ("utf32.geojson", _fc([_pt([8.5, 47.4], {"name": "Zürich"})]).encode("utf-32"), []),
    ],
)
def test_text_inputs_are_decoded(cli, tmp_path, name, data, extra):
    src = tmp_path / name
    src.write_bytes(data)
    out = tmp_path / "out.parquet"
    res = cli("encode", src, "-m", "xyz", "-o", out, *extra)
    assert res.exit_code == 0, res.stderr
    assert pq.read_table(out).column("name").to_pylist()[0] == "Zürich"


def _write(tmp_path, name, content) -> object:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif callable(content):
        content(path)
    else:
        path.write_text(content)
    return path


BAD = {
    "latin-1 text without --encoding": ("l.csv", ROWS.encode("latin-1"), [], 1, "is not UTF-8 text (byte 0xFC"),
    "unknown --encoding": ("u.csv", ROWS, ["--encoding", "klingon"], 2, "unknown --encoding 'klingon'"),
    "duplicate CSV columns": ("d.csv", "lon,lat,a,a\n1,2,3,4\n", [], 1, "two columns named 'a'"),
    "duplicate Parquet columns": (
        "d.parquet",
        lambda p: pq.write_table(
            pa.Table.from_arrays(
                [pa.array([1.0]), pa.array([2.0]), pa.array([3]), pa.array([4])], names=["lon", "lat", "a", "a"]
            ),
            p,
        ),
        [],
        1,
        "two columns named 'a'",
    ),
    "booleans as coordinates": ("b.geojson", _fc([_pt([True, False])]), [], 1, "non-numeric coordinates"),
    "properties not an object": (
        "p.geojson",
        _fc([{**_pt([1, 2]), "properties": [1, 2]}]),
        [],
        1,
        "'properties' that are not an object",
    ),
    "geometry not an object": (
        "g.geojson",
        _fc([{"type": "Feature", "geometry": "POINT(1 2)", "properties": {}}]),
        [],
        1,
        "'geometry' that is not a GeoJSON object",
    ),
    "features not a list": (
        "f.geojson",
        json.dumps({"type": "FeatureCollection", "features": 5}),
        [],
        1,
        "'features' must be a list",
    ),
    "unknown CRS in a GeoJSON": (
        "c.geojson",
        _fc([_pt([1, 2])], crs={"type": "name", "properties": {"name": "EPSG:99999"}}),
        [],
        1,
        "declares a CRS that PROJ does not know",
    ),
    "geo metadata a list": ("l.parquet", lambda p: _geo_parquet(p, "[1, 2, 3]"), [], 1, "of the wrong shape"),
    "geo metadata wrong types": (
        "w.parquet",
        lambda p: _geo_parquet(p, '{"primary_column": 5, "columns": []}'),
        [],
        1,
        "of the wrong shape",
    ),
    "unknown CRS in GeoParquet": (
        "k.parquet",
        lambda p: _geo_parquet(
            p,
            json.dumps(
                {
                    "version": "1.1.0",
                    "primary_column": "geometry",
                    "columns": {"geometry": {"encoding": "WKB", "crs": {"x": 1}}},
                }
            ),
        ),
        [],
        1,
        "declares a CRS that PROJ does not know",
    ),
    "200,000 columns": (
        "w.csv",
        ",".join(f"c{i}" for i in range(200_000)) + "\n" + "1," * 199_999 + "1\n",
        [],
        1,
        "and 199,988 more",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_malformed_inputs_get_one_line(cli, tmp_path, case):
    name, content, extra, code, phrase = BAD[case]
    src = _write(tmp_path, name, content)
    out = tmp_path / "out.parquet"
    res = cli("encode", src, "-m", "xyz", "-o", out, *extra)
    assert res.exit_code == code, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and phrase in lines[0] and len(lines[0]) < 520, res.stderr
    assert not out.exists()

"""`geoenc encode` as a user runs it: formats in and out, pipes, provenance, and a table of bad inputs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import LAT, LON, NAMES


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _xyz(lon, lat):
    lo, la = np.deg2rad(lon), np.deg2rad(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


@pytest.mark.parametrize("fixture", ["csv_file", "parquet_file", "geojson_file"])
def test_encode_each_input_format_gives_geoparquet(cli, tmp_path, request, fixture):
    src = request.getfixturevalue(fixture)
    out = tmp_path / "out.parquet"
    res = cli("encode", src, "--method", "xyz", "-o", out)
    assert res.exit_code == 0, res.output
    gdf = gpd.read_parquet(out)
    assert gdf.crs is not None and gdf.crs.is_geographic
    assert list(gdf["name"]) == NAMES
    assert list(gdf["pop"]) == [0, 10, 20, 30, 40]
    np.testing.assert_allclose(gdf["lon"], LON)
    np.testing.assert_allclose(gdf.geometry.y, LAT)
    emb = np.stack(gdf["embedding"].to_numpy())
    np.testing.assert_allclose(emb, _xyz(LON, LAT), atol=1e-6)
    schema = pq.read_schema(out)
    assert schema.field("embedding").type == pa.list_(pa.float32(), 3)
    assert schema.field("lon").type == pa.float64()
    geo = json.loads(schema.metadata[b"geo"])
    assert geo["version"] == "1.1.0" and geo["columns"]["geometry"]["encoding"] == "WKB"
    meta = json.loads(schema.metadata[b"geoenc"])
    assert meta["method"] == "xyz" and meta["dim"] == 3 and "geoenc_version" in meta


def test_sphere_m_on_sample_data_has_documented_dimension(cli, tmp_path):
    out = tmp_path / "emb.parquet"
    res = cli("encode", Path("sample_data/cities_sample.geojson"), "--method", "sphereM", "-o", out)
    assert res.exit_code == 0, res.output
    table = pq.read_table(out)
    assert table.num_rows == 1000
    # sphereM has 5 terms per scale; the default S is 32 (geoenc methods)
    assert table.schema.field("embedding").type.list_size == 5 * 32


def test_stdin_csv_to_stdout_parquet(cli, csv_file):
    res = cli("encode", "-", "--format", "csv", "--method", "xyz", "-o", "-", input=csv_file.read_bytes())
    assert res.exit_code == 0, res.stderr
    table = pq.read_table(io.BytesIO(res.stdout_bytes))
    assert table.num_rows == 5
    assert table.column("name").to_pylist() == NAMES


def test_stdin_format_is_sniffed(cli, geojson_file):
    res = cli("encode", "-", "-m", "xyz", "-o", "-", "--output-format", "csv", input=geojson_file.read_bytes())
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].split(",")[:4] == ['"name"', '"pop"', '"lon"', '"lat"']
    assert len(lines) == 6


def test_csv_output_has_embedding_columns(cli, csv_file, tmp_path):
    out = tmp_path / "out.csv"
    assert cli("encode", csv_file, "-m", "xyz", "-o", out).exit_code == 0
    header = out.read_text().splitlines()[0]
    assert header.endswith('"emb_0","emb_1","emb_2"')


def test_columns_layout_in_parquet(cli, csv_file, tmp_path):
    out = tmp_path / "out.parquet"
    assert cli("encode", csv_file, "-m", "xyz", "--layout", "columns", "-o", out).exit_code == 0
    names = pq.read_schema(out).names
    assert {"emb_0", "emb_1", "emb_2"} <= set(names) and "embedding" not in names


def test_batches_do_not_change_results(cli, csv_file, tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert cli("encode", csv_file, "-m", "sphereM", "--batch-size", "2", "-o", a).exit_code == 0
    assert cli("encode", csv_file, "-m", "sphereM", "-o", b).exit_code == 0
    assert pq.read_table(a).equals(pq.read_table(b))


def test_overwrite_replaces_only_when_asked(cli, csv_file, tmp_path):
    out = tmp_path / "out.parquet"
    out.write_bytes(b"precious")
    res = cli("encode", csv_file, "-m", "xyz", "-o", out)
    assert res.exit_code == 1 and "--overwrite" in res.stderr
    assert out.read_bytes() == b"precious"
    assert cli("encode", csv_file, "-m", "xyz", "-o", out, "--overwrite").exit_code == 0
    assert pq.read_table(out).num_rows == 5


def test_projected_input_is_reprojected(cli, tmp_path):
    gdf = gpd.GeoDataFrame(
        {"name": NAMES[:4]}, geometry=gpd.points_from_xy(LON[:4], np.clip(LAT[:4], -85, 85)), crs="OGC:CRS84"
    )
    src = tmp_path / "merc.parquet"
    gdf.to_crs("EPSG:3857").to_parquet(src)
    out = tmp_path / "out.parquet"
    assert cli("encode", src, "-m", "xyz", "-o", out).exit_code == 0
    back = pq.read_table(out)
    np.testing.assert_allclose(back.column("lon").to_numpy(), LON[:4], atol=1e-6)


def test_csv_with_crs_option(cli, tmp_path):
    src = tmp_path / "merc.csv"
    src.write_text("x,y\n1113194.9079327357,0\n")
    out = tmp_path / "out.parquet"
    assert cli("encode", src, "-m", "xyz", "--crs", "EPSG:3857", "-o", out).exit_code == 0
    assert abs(pq.read_table(out).column("lon")[0].as_py() - 10.0) < 1e-6


def test_wrap_lon(cli, tmp_path):
    src = tmp_path / "wrap.csv"
    src.write_text("lon,lat\n190,10\n-200,5\n")
    out = tmp_path / "out.parquet"
    assert cli("encode", src, "-m", "xyz", "--wrap-lon", "-o", out).exit_code == 0
    np.testing.assert_allclose(pq.read_table(out).column("lon").to_numpy(), [-170.0, 160.0])


def test_centroid_of_polygons(cli, tmp_path):
    src = tmp_path / "poly.geojson"
    square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    src.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "geometry": square, "properties": {"id": 1}}],
            }
        )
    )
    out = tmp_path / "out.parquet"
    assert cli("encode", src, "-m", "xyz", "--centroid", "-o", out).exit_code == 0
    t = pq.read_table(out)
    assert (t.column("lon")[0].as_py(), t.column("lat")[0].as_py()) == (1.0, 1.0)


def test_wkt_column_and_named_columns(cli, tmp_path):
    src = tmp_path / "wkt.csv"
    src.write_text('id,geometry\n1,"POINT (5 6)"\n')
    out = tmp_path / "out.parquet"
    assert cli("encode", src, "-m", "xyz", "-o", out).exit_code == 0
    src2 = tmp_path / "named.csv"
    src2.write_text("id,a,b\n1,5,6\n")
    out2 = tmp_path / "out2.parquet"
    assert cli("encode", src2, "-m", "xyz", "--lon-col", "a", "--lat-col", "b", "-o", out2).exit_code == 0
    for path in (out, out2):
        t = pq.read_table(path)
        assert (t.column("lon")[0].as_py(), t.column("lat")[0].as_py()) == (5.0, 6.0)


def test_ndjson_input(cli, tmp_path):
    src = tmp_path / "pts.geojsonl"
    src.write_text(
        "\n".join(
            json.dumps(
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": {"name": n}}
            )
            for n, x, y in zip(NAMES, LON, LAT, strict=False)
        )
    )
    out = tmp_path / "out.parquet"
    assert cli("encode", src, "-m", "xyz", "-o", out).exit_code == 0
    assert pq.read_table(out).column("name").to_pylist() == NAMES


def test_same_command_twice_same_numbers(cli, csv_file, tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert cli("encode", csv_file, "-m", "rbf", "-p", "num_anchors=3", "-o", a).exit_code == 0
    assert cli("encode", csv_file, "-m", "rbf", "-p", "num_anchors=3", "-o", b).exit_code == 0
    assert pq.read_table(a).equals(pq.read_table(b))


# -- bad input: one line on stderr, exit 1 or 2, no traceback, no output left ---------------------------


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


def _truncated_parquet(tmp_path: Path) -> Path:
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"lon": [1.0, 2.0], "lat": [3.0, 4.0]}), good)
    data = good.read_bytes()
    good.unlink()
    return _write(tmp_path, "trunc.parquet", data[: len(data) // 2])


BAD = {
    # name: (input maker, extra args, expected exit code, a phrase the message must contain)
    "missing file": (lambda d: d / "nope.csv", [], 1, "does not exist"),
    "directory": (lambda d: d, [], 1, "directory"),
    "empty file": (lambda d: _write(d, "e.csv", ""), [], 1, "empty"),
    "header only": (lambda d: _write(d, "h.csv", "lon,lat\n"), [], 1, "no points"),
    "no coordinate columns": (lambda d: _write(d, "n.csv", "a,b\n1,2\n"), [], 1, "--lon-col"),
    "named column missing": (
        lambda d: _write(d, "m.csv", "a,b\n1,2\n"),
        ["--lon-col", "a", "--lat-col", "zz"],
        1,
        "'zz'",
    ),
    "only one of lon/lat col": (lambda d: _write(d, "o.csv", "a,b\n1,2\n"), ["--lon-col", "a"], 2, "both"),
    "NaN coordinate": (lambda d: _write(d, "nan.csv", "lon,lat\n1,2\nnan,3\n"), [], 1, "row 2"),
    "empty coordinate": (lambda d: _write(d, "ec.csv", "lon,lat\n1,2\n3,\n"), [], 1, "row 2"),
    "infinite coordinate": (lambda d: _write(d, "inf.csv", "lon,lat\ninf,2\n"), [], 1, "infinite"),
    "latitude out of range": (lambda d: _write(d, "lat.csv", "lon,lat\n1,2\n3,95\n4,-91\n"), [], 1, "2 point(s)"),
    "longitude out of range": (lambda d: _write(d, "lon.csv", "lon,lat\n190,2\n"), [], 1, "--wrap-lon"),
    "non-numeric coordinate": (lambda d: _write(d, "t.csv", "lon,lat\n1,2\nabc,3\n"), [], 1, "'abc'"),
    "truncated parquet": (_truncated_parquet, [], 1, "Parquet"),
    "corrupt parquet": (lambda d: _write(d, "c.parquet", b"PAR1 not really parquet"), [], 1, "Parquet"),
    "invalid json": (
        lambda d: _write(d, "bad.geojson", '{"type": "FeatureCollection", "features": ['),
        [],
        1,
        "GeoJSON",
    ),
    "not a feature collection": (lambda d: _write(d, "x.geojson", '{"a": 1}'), [], 1, "FeatureCollection"),
    "polygon without --centroid": (
        lambda d: _write(
            d,
            "p.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {},
                            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
                        }
                    ],
                }
            ),
        ),
        [],
        1,
        "--centroid",
    ),
    "null geometry": (
        lambda d: _write(
            d,
            "g.geojson",
            json.dumps(
                {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": None}]}
            ),
        ),
        [],
        1,
        "missing",
    ),
    "bad ndjson line": (lambda d: _write(d, "b.ndjson", '{"type": "Feature"}\nnot json\n'), [], 1, "line"),
    "bad wkt": (lambda d: _write(d, "w.csv", 'geometry\n"POINT (1"\n'), [], 1, "invalid"),
    "unknown crs": (lambda d: _write(d, "c.csv", "lon,lat\n1,2\n"), ["--crs", "EPSG:999999"], 2, "unknown CRS"),
    "unknown method": (lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"), ["-m", "sphereX"], 2, "did you mean"),
    "unknown parameter": (
        lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"),
        ["-m", "sphereM", "-p", "freq=3"],
        2,
        "frequency_num",
    ),
    "bad parameter value": (
        lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"),
        ["-m", "sphereM", "-p", "frequency_num=-3"],
        2,
        "frequency_num",
    ),
    "parameter not a number": (
        lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"),
        ["-m", "sphereM", "-p", "frequency_num=many"],
        2,
        "frequency_num",
    ),
    "parameter without =": (lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"), ["-p", "frequency_num"], 2, "KEY=VALUE"),
    "unknown device": (lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"), ["--device", "tpu"], 2, "device"),
    "unknown dtype": (lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"), ["--dtype", "float16"], 2, "dtype"),
    "unknown input format": (lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"), ["--format", "shp"], 2, "input format"),
    "unknown layout": (lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"), ["--layout", "wide"], 2, "layout"),
    "method and model": (lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"), ["-m", "xyz", "--model", "m"], 2, "either"),
    "batch size zero": (lambda d: _write(d, "u.csv", "lon,lat\n1,2\n"), ["--batch-size", "0"], 2, "batch-size"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input(cli, tmp_path, case):
    make, extra, code, phrase = BAD[case]
    work = tmp_path / "in"
    work.mkdir()
    src = make(work)
    outdir = tmp_path / "out"
    outdir.mkdir()
    res = cli("encode", src, "-o", outdir / "out.parquet", *extra)
    assert res.exit_code == code, (res.exit_code, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoenc: error:"), res.stderr
    assert phrase.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in res.output
    assert _files(outdir) == set(), "a failed run must leave no output"


BAD_OUTPUT = {
    "output folder missing": (lambda d: d / "no" / "out.parquet", 1, "does not exist"),
    "output suffix unknown": (lambda d: d / "out.xyz", 2, "output format"),
    "output is a directory": (lambda d: d, 1, "directory"),
}


@pytest.mark.parametrize("case", list(BAD_OUTPUT), ids=list(BAD_OUTPUT))
def test_bad_output(cli, csv_file, tmp_path, case):
    make, code, phrase = BAD_OUTPUT[case]
    outdir = tmp_path / "o"
    outdir.mkdir()
    res = cli("encode", csv_file, "-m", "xyz", "-o", make(outdir))
    assert res.exit_code == code, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and phrase in res.stderr
    assert _files(outdir) == set()


def test_failure_midway_leaves_no_partial_file(cli, tmp_path):
    # the bad row sits in the third batch: two batches were already written when it is found
    src = _write(tmp_path, "late.csv", "lon,lat\n" + "1,2\n" * 5 + "1,95\n")
    out = tmp_path / "res"
    out.mkdir()
    res = cli("encode", src, "-m", "xyz", "--batch-size", "2", "-o", out / "out.parquet")
    assert res.exit_code == 1 and "row 6" in res.stderr
    assert _files(out) == set()


def test_debug_shows_traceback(cli, tmp_path):
    res = cli("--debug", "encode", tmp_path / "nope.csv", "-o", tmp_path / "x.parquet")
    assert res.exit_code == 1 and "Traceback" in res.stderr

"""`geoenc geobias`: outputs read back, compare mode, JSON summary, and a table of refused inputs."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from geoenc.io import write_points


def _points(n=600, seed=0):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(0, 15, n)  # dense enough for 300 km SSI neighbourhoods (~70 points each)
    lat = rng.uniform(40, 55, n)
    return lon, lat, rng


@pytest.fixture
def preds(tmp_path):
    lon, lat, rng = _points()
    clustered = np.hypot(lon - 4, lat - 44) < 4
    hit = np.where(clustered, rng.random(lon.size) < 0.2, rng.random(lon.size) < 0.9).astype(float)
    a = tmp_path / "clustered.parquet"
    write_points(a, lon, lat, pa.table({"id": np.arange(lon.size)}), {"hit@1": hit})
    b = tmp_path / "shuffled.parquet"
    write_points(b, lon, lat, pa.table({"id": np.arange(lon.size)}), {"hit@1": rng.permutation(hit)})
    err = tmp_path / "errors.csv"
    write_points(err, lon, lat, None, {"abs_error": np.where(clustered, 5.0, 1.0) + rng.random(lon.size)})
    return tmp_path, a, b, err


def test_report_raster_png_and_json(cli, preds):
    d, a, _, _ = preds
    out, tif, png = d / "r.parquet", d / "h.tif", d / "m.png"
    res = cli("geobias", a, "-o", out, "--raster", tif, "--cell-deg", "2", "--png", png, "--json", "-q")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert len(summary) == 1 and summary[0]["n_points"] == 600
    s = summary[0]
    assert s["marked_ssi"] > 0 and s["unmarked_ssi"] > 0 and s["hot_spots"] > 0 and s["moran_p"] < 1e-6
    assert len(s["latitude_bands"]) == 9 and sum(b["n"] for b in s["latitude_bands"]) == 600
    t = pq.read_table(out)
    for c in ("id", "hit@1", "lon", "lat", "geometry", "bad", "ssi_unmarked", "ssi_marked", "gi_z", "gi_p", "gi_bin"):
        assert c in t.column_names, c
    bad = np.asarray(t.column("bad"))
    ssi = np.asarray(t.column("ssi_marked"))
    assert np.isfinite(ssi[bad]).all() and np.isnan(ssi[~bad]).all()
    assert json.loads(t.schema.metadata[b"geoenc"])["command"] == "geobias"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    import rasterio

    with rasterio.open(tif) as ds:
        assert ds.descriptions == ("gi_z_mean", "bad_rate", "count") and ds.crs.to_epsg() == 4326
        counts = ds.read(3)
        assert np.nansum(counts) == 600
        lon, lat = np.asarray(t.column("lon")), np.asarray(t.column("lat"))
        r, c = ds.index(lon[0], lat[0])
        same = (np.floor((lon + 180) / 2) == np.floor((lon[0] + 180) / 2)) & (
            np.floor((90 - lat) / 2) == np.floor((90 - lat[0]) / 2)
        )
        assert ds.read(1)[r, c] == pytest.approx(np.asarray(t.column("gi_z"))[same].mean(), rel=1e-5)
        assert counts[r, c] == same.sum()


def test_compare_mode_one_row_per_file(cli, preds):
    d, a, b, _ = preds
    res = cli("geobias", a, b, "-o", d / "rep.parquet", "--json", "-q")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert [x["file"] for x in s] == [str(a), str(b)]
    assert s[0]["marked_ssi"] > s[1]["marked_ssi"] and s[0]["moran_i"] > s[1]["moran_i"]
    assert (d / "rep.clustered.parquet").exists() and (d / "rep.shuffled.parquet").exists()
    table = cli("geobias", a, b, "-o", d / "rep.parquet", "--overwrite", "-q")
    assert table.exit_code == 0 and "clustered.parquet" in table.stdout and "shuffled.parquet" in table.stdout


def test_continuous_error_with_threshold_and_fdr(cli, preds):
    d, _, _, err = preds
    res = cli("geobias", err, "--threshold", "3", "--fdr", "-o", d / "e.csv", "--json", "-q")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)[0]
    assert s["outcome"] == "abs_error (bad = abs_error > 3)" and "mean_error" in s["latitude_bands"][0]
    assert "gi_q" in (d / "e.csv").read_text().splitlines()[0]


@pytest.mark.parametrize(
    "case,args,code,message",
    [
        ("no performance column", ["--json"], 1, "no performance column"),
        ("threshold missing", ["--error", "abs_error"], 2, "--threshold"),
        ("constant outcome", ["--value", "allgood"], 1, "constant outcome"),
        ("not binary", ["--value", "abs_error"], 2, "not 0/1"),
        ("unknown column", ["--value", "hit@2"], 1, "no column 'hit@2'"),
        ("fewer points than k", ["--value", "few"], 1, None),
        ("value and error", ["--value", "hit@1", "--error", "abs_error", "--threshold", "1"], 2, "not both"),
        ("bad radius", ["--radius-km", "-5"], 2, "--radius-km"),
        ("cell without raster", ["--cell-deg", "2"], 2, "--raster"),
        ("unknown report format", ["--output-format", "xlsx"], 2, "format"),
        ("unknown SSI mode", ["--ssi-mode", "pygbz"], 2, "--ssi-mode"),
        ("unknown presence set", ["--presence", "some"], 2, "--presence"),
        ("negative permutations", ["--relative", "-1"], 2, "--relative"),
        ("the replaced --baseline", ["--baseline", "2"], 2, "--relative"),
    ],
)
def test_bad_inputs(cli, tmp_path, case, args, code, message):
    lon, lat, rng = _points(40)
    cols = {"abs_error": rng.random(40), "allgood": np.ones(40)}
    if "hit@1" in args:
        cols["hit@1"] = (rng.random(40) < 0.5).astype(float)
    src = tmp_path / "in.parquet"
    if case == "fewer points than k":
        write_points(src, lon[:6], lat[:6], None, {"few": np.array([0, 1, 0, 1, 1, 0.0])})
        msg = "only 6 points"
    else:
        write_points(src, lon, lat, None, cols if case != "no performance column" else {"other": np.ones(40)})
        msg = message
    out = tmp_path / "out.parquet"
    res = cli("geobias", src, "-o", out, "-q", *args)
    assert res.exit_code == code, res.output
    assert msg in res.stderr and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert not out.exists()


def test_nan_coordinates_are_refused(cli, tmp_path):
    src = tmp_path / "nan.csv"
    src.write_text("lon,lat,hit@1\n1,2,1\nnan,3,0\n4,5,1\n")
    res = cli("geobias", src, "-o", tmp_path / "o.parquet")
    assert res.exit_code == 1 and not (tmp_path / "o.parquet").exists()


def test_existing_output_is_refused_before_work(cli, preds):
    d, a, _, _ = preds
    out = d / "exists.parquet"
    out.write_text("keep")
    res = cli("geobias", a, "-o", out)
    assert res.exit_code == 1 and "--overwrite" in res.stderr and out.read_text() == "keep"


def test_ssi_mode_presence_relative_and_saturation_are_reported(cli, preds):
    from geoenc.metrics.ssi import ssi_scores

    d, a, _, _ = preds
    args = ["geobias", a, "-o", d / "m.parquet", "--radius-km", "250", "--k", "60", "--json", "-q"]
    res = cli(*args, "--ssi-mode", "pygbs", "--relative", "2", "--seed", "3")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)[0]
    assert s["ssi_mode"] == "pygbs" and s["unmarked_presence"] == "all" and s["params"]["ssi_mode"] == "pygbs"
    assert s["params"]["relative_permutations"] == 2 and s["params"]["seed"] == 3
    for key in (
        "marked_ssi_rel",
        "marked_ssi_random",
        "marked_ssi_random_sd",
        "unmarked_saturated",
        "marked_saturated",
    ):
        assert s[key] is not None, key
    assert s["marked_ssi_rel"] > 0  # errors confined to one disc score above errors placed at random
    assert abs(s["unmarked_ssi_rel"]) < 1e-9  # presence = every point: the unmarked score ignores the errors
    # the CLI passes radius, k, mode and presence through: same numbers as the Python function
    t = pq.read_table(d / "m.parquet")
    lon, lat = np.asarray(t.column("lon")), np.asarray(t.column("lat"))
    bad = np.asarray(t.column("bad"))
    direct = ssi_scores(lon, lat, bad, radius_km=250, k=60, mode="pygbs").summary()
    assert s["marked_ssi"] == pytest.approx(direct["marked_ssi"], abs=1e-12)
    assert s["unmarked_ssi"] == pytest.approx(direct["unmarked_ssi"], abs=1e-12)
    meta = json.loads(t.schema.metadata[b"geoenc"])
    assert meta["summary"]["ssi_mode"] == "pygbs" and meta["summary"]["marked_ssi_rel"] == s["marked_ssi_rel"]
    for key in ("unmarked_saturated", "marked_saturated"):  # the saturated share beside every summary
        assert meta["summary"][key] == s[key]
    rel = np.asarray(t.column("ssi_marked_rel"))
    assert np.isfinite(rel[bad]).all() and np.isnan(rel[~bad]).all()
    again = json.loads(cli(*args, "--ssi-mode", "pygbs", "--relative", "2", "--seed", "3", "--overwrite").stdout)[0]
    assert again["marked_ssi_rel"] == s["marked_ssi_rel"]  # seeded

    exact = json.loads(cli(*args, "--presence", "all", "--overwrite").stdout)[0]
    assert exact["ssi_mode"] == "exact" and exact["unmarked_presence"] == "all" and "marked_ssi_rel" not in exact
    direct = ssi_scores(lon, lat, bad, radius_km=250, k=60, unmarked_presence="all").summary()
    assert exact["unmarked_ssi"] == pytest.approx(direct["unmarked_ssi"], abs=1e-12)

    table = cli("geobias", a, "-o", d / "m.parquet", "--relative", "2", "--overwrite", "-q")
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert "SSI mode exact" in text and "unmarked presence: low" in text and "at cap" in text
    assert "Relative SSI" in text and "permutations of the outcome at the same centres" in text and " ± " in text


# every keyword of compute_geobias / run_geobias and the option that sets it (source and progress are internal)
CLI_OPTION = {
    "radius_km": "--radius-km",
    "k": "--k",
    "gi_k": "--gi-k",
    "moran_k": "--moran-k",
    "band_km": "--band-km",
    "fdr": "--fdr",
    "centres": "--ssi-centres",
    "ssi_mode": "--ssi-mode",
    "unmarked_presence": "--presence",
    "relative": "--relative",
    "seed": "--seed",
    "n_jobs": "--jobs",
    "mapper": "--engine",  # with --scheduler: Dask workers (docs/scale.md)
}


def test_cli_exposes_every_option_of_the_python_functions(cli):
    import inspect

    from geoenc.metrics.report import compute_geobias
    from geoenc.workflows.geobias import run_geobias

    def keywords(f):
        return {n for n, p in inspect.signature(f).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}

    assert keywords(compute_geobias) - {"source", "progress"} == set(CLI_OPTION)
    assert set(CLI_OPTION) <= keywords(run_geobias)
    text = cli("geobias", "--help").stdout
    for name, option in CLI_OPTION.items():
        assert f"{option} " in text or f"{option}\n" in text, (name, option)


def test_moran_k_reaches_morans_i(cli, preds):
    d, a, _, _ = preds
    base = ["geobias", a, "-o", d / "m.parquet", "--json", "-q", "--overwrite", "--radius-km", "150", "--k", "40"]
    s8 = json.loads(cli(*base).stdout)[0]
    s20 = json.loads(cli(*base, "--moran-k", "20").stdout)[0]
    assert s8["params"]["moran_k"] == 8 and s20["params"]["moran_k"] == 20
    assert s8["moran_i"] != s20["moran_i"] and s8["gi_bins"] == s20["gi_bins"]  # Gi* keeps --gi-k
    bad = cli(*base, "--moran-k", "0")
    assert bad.exit_code == 2 and "--moran-k must be at least 1" in bad.stderr

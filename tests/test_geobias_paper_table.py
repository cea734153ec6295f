"""benchmarks/geobias_paper_table.py must not rot: on tiny files laid out as in seai-lab/GeoBS (made up here,
nothing downloaded) it finds the files, borrows coordinates for a No Prior file, reads GeoBS's committed
per-point scores (empty rows included) and gives the same summaries as ssi_scores."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def test_paper_table_script_on_geobs_layout(tmp_path):
    from geoenc.metrics.spatial import EARTH_RADIUS_KM
    from geoenc.metrics.ssi import ssi_scores

    rng = np.random.default_rng(0)
    n = 300
    lon, lat = rng.uniform(0, 8, n), rng.uniform(40, 48, n)
    hit = {"NeRF": (rng.random(n) < 0.7).astype(int), "no_prior": (rng.random(n) < 0.6).astype(int)}
    lon[5] = np.nan  # a row without coordinates: dropped, as PyGBS's reader does
    res_dir = tmp_path / "data" / "torchspatial_results"
    _write(
        res_dir / "eval_inat_2018__val_NeRF.csv",
        ["", "lon", "lat", "true_class_prob", "reciprocal_rank", "hit@1", "hit@3"],
        [[i, "" if np.isnan(lon[i]) else lon[i], lat[i], 0.5, 1.0, hit["NeRF"][i], 1] for i in range(n)],
    )
    _write(
        res_dir / "eval_inat_2018__val_no_prior.csv",
        ["", "true_class_prob", "reciprocal_rank", "hit@1", "hit@3"],
        [[i, 0.5, 1.0, hit["no_prior"][i], 1] for i in range(n)],
    )
    committed = [[lat[i], lon[i], float(hit["NeRF"][i]), 10.0 + i, 2.0 * i, 100] for i in range(n)]
    committed[7][3] = committed[7][4] = ""  # GeoBS leaves some scores empty
    _write(
        tmp_path
        / "GBS_score_result_table"
        / "ssi_radius_0.05"
        / "hit@1_weights"
        / "eval_inat_2018__val_NeRF_ssi_0.05.csv",
        ["lat", "lon", "value", "pnp_ssi", "rp_ssi", "weight"],
        committed,
    )
    out = tmp_path / "scores.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(ROOT / "benchmarks" / "geobias_paper_table.py"), str(tmp_path)]
    cmd += ["--datasets", "inat_2018", "--variants", "pygbs,exact", "--relative", "2", "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| iNat2018 | NeRF |" in proc.stdout and "| 30.46 | 23.90 |" in proc.stdout  # beside the paper's
    recs = {r["model"]: r for r in json.loads(out.read_text())}
    assert set(recs) == {"NeRF", "No Prior"}
    assert recs["No Prior"]["coords_from"] == "eval_inat_2018__val_NeRF.csv"
    assert recs["NeRF"]["dropped_rows"] == 1 and recs["NeRF"]["n"] == n - 1
    ok = np.isfinite(lon)
    low = hit["NeRF"] == 0  # the committed file's own rows: every row with a score
    low[7] = False
    c = recs["NeRF"]["committed"]
    assert c["pnp_ssi_missing"] == 1 and c["pnp_ssi_low"] == pytest.approx(np.mean(10.0 + np.flatnonzero(low)))
    bad = hit["NeRF"][ok] == 0
    for mode in ("pygbs", "exact"):
        direct = ssi_scores(
            lon[ok], lat[ok], bad, mode=mode, radius_km=0.05 * EARTH_RADIUS_KM, k=400, relative=2, seed=0
        ).summary()
        got = recs["NeRF"]["scores"][mode]
        for key in ("unmarked_ssi", "marked_ssi", "marked_ssi_rel", "unmarked_saturated", "marked_saturated"):
            assert got[key] == pytest.approx(direct[key], abs=1e-9), (mode, key)

"""`geoenc encode URL`: a file served on the loopback address encodes to the same rows as the local file.

The server is started and stopped by each test, on 127.0.0.1 at a free port; no other network is used.
"""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest

import geoenc.io.remote as remote
from tests.conftest import SAMPLE
from tests.io.http_server import LoopbackServer


@pytest.fixture
def www(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    pq.write_table(pq.read_table(SAMPLE / "cities.parquet"), root / "pts.parquet", row_group_size=4096)
    shutil.copy(SAMPLE / "cities_sample.geojson", root / "pts.geojson")
    return root


@pytest.mark.parametrize("name", ["pts.parquet", "pts.geojson"])
def test_remote_encode_equals_local(cli, www, tmp_path, monkeypatch, name):
    monkeypatch.setattr(remote, "BLOCK", 1 << 16)  # small blocks: many ranged requests
    local, far = tmp_path / "local.parquet", tmp_path / "remote.parquet"
    assert cli("encode", www / name, "-m", "sphereM", "--batch-size", "5000", "-o", local).exit_code == 0
    with LoopbackServer(www) as srv:
        res = cli("encode", srv.url(name), "-m", "sphereM", "--batch-size", "5000", "-o", far)
    assert res.exit_code == 0, res.output
    a, b = pq.read_table(local), pq.read_table(far)
    assert a.num_rows == b.num_rows > 0
    assert a.equals(b)  # same rows, columns, embeddings and metadata
    assert all(r and r.startswith("bytes=") for m, _, r in srv.log if m == "GET")


@pytest.mark.parametrize(
    ("make_url", "code", "message"),
    [
        (lambda srv: srv.url("missing.parquet"), 1, r"input http://127\.0\.0\.1:\d+/missing\.parquet does not exist"),
        (lambda srv: f"ftp://127.0.0.1:{srv.port}/pts.parquet", 2, r"cannot read ftp:// inputs: .*https://"),
        (lambda srv: srv.url("missing.parquet?sig=SECRET"), 1, r"/missing\.parquet does not exist \(HTTP 404"),
    ],
)
def test_remote_errors_one_line_no_output(cli, www, tmp_path, make_url, code, message):
    import re

    out = tmp_path / "o.parquet"
    with LoopbackServer(www) as srv:
        res = cli("encode", make_url(srv), "-m", "xyz", "-o", out)
    assert res.exit_code == code, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoenc: error:"), res.stderr
    assert re.search(message, lines[0]), lines[0]
    assert "SECRET" not in res.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["www"]

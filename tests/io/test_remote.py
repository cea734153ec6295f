"""Remote inputs: ranged reads over a loopback HTTP server (and an S3 stand-in), errors, URL handling.

Every network request goes to 127.0.0.1, to a server each test starts and stops itself.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import geoenc.io.remote as remote
from geoenc.errors import InputError, UsageError
from geoenc.io import read_points, write_points
from geoenc.io.remote import RangeFile, display_url
from tests.conftest import SAMPLE
from tests.io.http_server import LoopbackServer


@pytest.fixture
def served(tmp_path) -> Path:
    """The sample cities (34,006 rows) as Parquet in 9 row groups, plus CSV, GeoJSON and NDJSON copies."""
    root = tmp_path / "www"
    (root / "bucket").mkdir(parents=True)
    table = pq.read_table(SAMPLE / "cities.parquet")
    pq.write_table(table, root / "pts.parquet", row_group_size=4096)
    shutil.copy(root / "pts.parquet", root / "bucket" / "pts.parquet")
    shutil.copy(SAMPLE / "cities.csv", root / "pts.csv")
    shutil.copy(SAMPLE / "cities_sample.geojson", root / "pts.geojson")
    feats = json.loads((SAMPLE / "cities_sample.geojson").read_text())["features"][:300]
    (root / "pts.ndjson").write_text("\n".join(json.dumps(f) for f in feats) + "\n")
    return root


@pytest.fixture
def small_blocks(monkeypatch):
    """64 KiB cache blocks, so that a 2 MB file takes many ranged reads."""
    monkeypatch.setattr(remote, "BLOCK", 1 << 16)


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.lon, b.lon)
    np.testing.assert_array_equal(a.lat, b.lat)
    assert a.attrs.equals(b.attrs)


def test_range_file_reads_like_bytesio():
    data = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    calls = []

    def fetch(a, b):
        calls.append((a, b))
        return data[a:b]

    f = RangeFile(fetch, len(data), "x", block=4096)
    ref = io.BytesIO(data)
    rng = np.random.default_rng(1)
    for _ in range(300):
        pos, n = int(rng.integers(0, len(data) + 10)), int(rng.integers(0, 20_000))
        whence = int(rng.integers(0, 3))
        off = pos if whence == 0 else pos - ref.tell() if whence == 1 else pos - len(data)
        assert f.seek(off, whence) == ref.seek(off, whence)
        assert f.read(n) == ref.read(n)
        assert f.tell() == ref.tell()
    f.seek(1000)
    assert f.readall() == data[1000:]
    assert f.requests == len(calls) and all(0 <= a < b <= len(data) for a, b in calls)
    # small reads inside one cached block cost no new request
    f.seek(8192)
    f.read(10)
    before = f.requests
    f.read(100)
    f.seek(8200)
    f.read(50)
    assert f.requests == before


def test_range_file_refuses_a_short_answer():
    f = RangeFile(lambda a, b: b"x" * (b - a - 1), 10_000, "remote.bin", block=1024)
    with pytest.raises(InputError, match=r"remote\.bin.*did the file change"):
        f.read(10)


@pytest.mark.parametrize("name", ["pts.parquet", "pts.csv", "pts.geojson", "pts.ndjson"])
def test_http_reads_the_same_points_as_the_local_file(served, small_blocks, name):
    with LoopbackServer(served) as srv:
        got = read_points(srv.url(name))
    _same(got, read_points(served / name))
    gets = [r for m, _, r in srv.log if m == "GET"]
    assert gets and all(r is not None and r.startswith("bytes=") for r in gets), gets
    # CSV is read in pyarrow's 8 MiB blocks and GeoJSON whole (a FeatureCollection is one JSON document);
    # how Parquet is read is the next test's business
    assert max(srv.sent) <= 8 << 20


def test_parquet_is_read_by_row_groups_not_whole(served, small_blocks):
    """Nine row groups of ~220 kB: each is fetched on its own, after the footer."""
    size = (served / "pts.parquet").stat().st_size
    with LoopbackServer(served) as srv:
        pts = read_points(srv.url("pts.parquet"))
    assert len(pts) == 34_006
    assert max(srv.sent) < size / 4
    assert 9 <= len(srv.log) <= 200, len(srv.log)
    first_data = next(r for m, _, r in srv.log[1:] if m == "GET")
    assert int(first_data.split("=")[1].split("-")[0]) > size - (1 << 16) - 1  # the footer is read first


def test_server_without_range_support_is_read_once(served):
    with LoopbackServer(served, ranges=False) as srv:
        got = read_points(srv.url("pts.parquet"))
    _same(got, read_points(served / "pts.parquet"))
    assert len(srv.log) == 1


def test_s3_through_pyarrow_against_a_loopback_endpoint(served, small_blocks, monkeypatch):
    """pyarrow's S3 client, pointed at the loopback server (path-style HEAD + ranged GETs), fake credentials."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    with LoopbackServer(served) as srv:
        url = f"s3://bucket/pts.parquet?endpoint_override=127.0.0.1:{srv.port}&scheme=http&region=us-east-1"
        got = read_points(url)
        with pytest.raises(InputError, match=r"^input s3://bucket/none\.parquet does not exist$"):
            read_points(url.replace("pts.parquet", "none.parquet"))
    _same(got, read_points(served / "pts.parquet"))
    assert srv.log[0][0] == "HEAD" and all(r for m, _, r in srv.log if m == "GET")


def test_errors_are_one_line(served):
    with LoopbackServer(served) as srv:
        with pytest.raises(InputError, match=r"^input http://127\.0\.0\.1:\d+/missing\.parquet does not exist"):
            read_points(srv.url("missing.parquet"))
        port = srv.port
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(InputError, match=rf"^cannot reach http://127\.0\.0\.1:{closed}/x\.parquet"):
        read_points(f"http://127.0.0.1:{closed}/x.parquet")
    with pytest.raises(UsageError, match=r"^cannot read ftp:// inputs: .*http://, https://, s3://, gs://, az://"):
        read_points(f"ftp://127.0.0.1:{port}/pts.parquet")
    with pytest.raises(UsageError, match="AZURE_STORAGE_ACCOUNT_NAME"):
        read_points("az://container/pts.parquet")
    with pytest.raises(UsageError, match="file:///path"):
        read_points("file://otherhost/pts.parquet")


def test_file_url_and_format_from_the_url_path(served):
    local = read_points(served / "pts.csv")
    _same(read_points((served / "pts.csv").as_uri()), local)
    with LoopbackServer(served) as srv:
        # the suffix is read from the path, not the query string
        _same(read_points(srv.url("pts.csv") + "?token=abc"), local)


def test_urls_lose_secrets_in_messages():
    assert display_url("https://user:pw@host.example:8443/a/b.parquet?X-Amz-Signature=s#f") == (
        "https://host.example:8443/a/b.parquet"
    )
    assert display_url("abfss://ctr@acct.dfs.core.windows.net/x.parquet") == (
        "abfss://ctr@acct.dfs.core.windows.net/x.parquet"
    )
    assert display_url("S3://bucket/key.parquet?endpoint_override=h") == "s3://bucket/key.parquet"


def test_remote_covering_column_is_not_an_attribute(tmp_path):
    """An input GeoParquet's bbox covering is derived from its geometry: dropped like the geometry itself."""
    src = tmp_path / "in.parquet"
    write_points(src, np.array([1.0, 2.0]), np.array([3.0, 4.0]), pa.table({"k": ["a", "b"]}))
    assert "bbox" in pq.read_schema(src).names
    assert read_points(src).attrs.column_names == ["k"]

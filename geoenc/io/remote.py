"""Inputs read where they live: http(s) URLs and object stores (s3, gs, az/abfs) as seekable files.

An input named by a URL is opened as a read-only, seekable binary file that fetches byte ranges on demand
(HTTP range requests; ``read_at`` of pyarrow's S3/GCS/Azure file systems), so Parquet is read footer first
and then row group by row group, never downloaded whole. Small reads are served from a few read-ahead
windows (:data:`BLOCK` bytes each), so the many small reads of a Parquet reader become a few large requests.
An HTTP server that ignores range requests is read once, whole, into a temporary file (spilled to disk
beyond :data:`SPOOL_BYTES`).

No dependency beyond the standard library (http/https) and pyarrow's own file systems (s3, gs, abfs);
credentials come from each file system's usual environment variables (see docs/formats.md).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from geoenc.errors import InputError, UsageError

if TYPE_CHECKING:
    from http.client import HTTPResponse

    import pyarrow.fs as pafs
    from _typeshed import WriteableBuffer

#: URL schemes geoenc reads (gcs = gs; abfss = abfs over TLS)
SCHEMES = ("http", "https", "s3", "gs", "gcs", "az", "abfs", "abfss", "file")
#: bytes per cached block, and how many blocks are kept
BLOCK = 4 << 20
CACHE_BLOCKS = 4
#: the least a short read away from the previous one fetches
MIN_FETCH = 64 << 10
#: a body from a server without range support stays in memory up to this size, then goes to a temporary file
SPOOL_BYTES = 64 << 20
TIMEOUT_S = 60

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def url_scheme(text: str) -> str | None:
    """The lower-case scheme of ``scheme://…`` text, or None for a plain path."""
    m = _URL.match(text)
    return m.group(1).lower() if m else None


def display_url(url: str) -> str:
    """The URL as shown in messages and provenance: no password, no query string, no fragment.

    Pre-signed URLs carry their credentials in the query string; it never leaves this module.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    if parts.username and parts.scheme.lower() in ("abfs", "abfss"):
        host = f"{parts.username}@{host}"  # abfs://CONTAINER@ACCOUNT…: the container is no secret
    return f"{parts.scheme.lower()}://{host}{parts.path}"


def display_source(source: str | Path) -> str:
    """How an input is named in messages and provenance: URLs through :func:`display_url`, paths as they are."""
    text = str(source)
    return display_url(text) if isinstance(source, str) and url_scheme(text) else text


def url_path(url: str) -> str:
    """The path part of a URL (for guessing the format from its suffix)."""
    return urlsplit(url).path


def file_url_path(url: str) -> str:
    """``file:///data/x.parquet`` → ``/data/x.parquet``."""
    from urllib.request import url2pathname

    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise UsageError(f"{url!r}: a file:// URL names a local file (file:///path), not one on host {parts.netloc!r}")
    return url2pathname(parts.path)


def check_scheme(url: str) -> str:
    scheme = url_scheme(url)
    if scheme not in SCHEMES:
        raise UsageError(
            f"cannot read {scheme}:// inputs: give a local file, - for stdin, or a URL starting with "
            "http://, https://, s3://, gs://, az://, abfs(s):// or file://"
        )
    return scheme


def open_url(url: str) -> IO[bytes]:
    """Open a remote input for reading: a seekable binary file fetching byte ranges as they are read."""
    scheme = check_scheme(url)
    name = display_url(url)
    if scheme in ("http", "https"):
        return _open_http(url, name)
    raw = _open_arrow(url, scheme, name)
    return io.BufferedReader(raw, buffer_size=1 << 16)


class RangeFile(io.RawIOBase):
    """A read-only seekable file over ``fetch(start, stop) -> bytes`` of an object of ``size`` bytes.

    A short read that continues where the previous one stopped (sequential reading: CSV, JSON lines, the
    small reads after a Parquet column chunk) fetches a whole block from its start (read-ahead); a short
    read elsewhere (Parquet's column-by-column reads across row groups) fetches only what it needs, at
    least :data:`MIN_FETCH` bytes. Either is kept as a window: up to :data:`CACHE_BLOCKS` windows serve
    the reads that follow. A read of a block or more takes what a window already holds of its start and
    fetches the rest in one request, uncached. ``requests`` counts the fetches made.
    """

    def __init__(self, fetch: Callable[[int, int], bytes], size: int, name: str, block: int | None = None):
        super().__init__()
        self._fetch = fetch
        self._size = size
        self._block = block or BLOCK
        self._windows: OrderedDict[int, bytes] = OrderedDict()  # start → bytes, least recently used first
        self._pos = 0
        self._last_stop = -1  # where the previous read ended: a read starting there is sequential
        self.name = name
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def size(self) -> int:
        return self._size

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), self._size - self._pos)
        if n <= 0:
            return 0
        data = self._read(self._pos, self._pos + n)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        chunks = []
        while self._pos < self._size:
            stop = min(self._size, self._pos + 4 * self._block)
            chunks.append(self._read(self._pos, stop))
            self._pos = stop
        return b"".join(chunks)

    def _get(self, start: int, stop: int) -> bytes:
        self.requests += 1
        data = self._fetch(start, stop)
        if len(data) != stop - start:
            raise InputError(
                f"{self.name}: asked for {stop - start:,} bytes at offset {start:,} and got {len(data):,}: "
                "did the file change while being read?"
            )
        return data

    def _window_at(self, pos: int) -> tuple[int, bytes] | None:
        for start, data in self._windows.items():
            if start <= pos < start + len(data):
                self._windows.move_to_end(start)
                return start, data
        return None

    def _read(self, start: int, stop: int) -> bytes:
        sequential = start == self._last_stop
        self._last_stop = stop
        parts = []
        pos = start
        while pos < stop and (window := self._window_at(pos)) is not None:
            w0, data = window
            take = min(stop, w0 + len(data))
            parts.append(data[pos - w0 : take - w0])
            pos = take
        if pos < stop:
            if stop - pos >= self._block:
                parts.append(self._get(pos, stop))
            else:
                ahead = self._block if sequential else max(MIN_FETCH, stop - pos)
                data = self._get(pos, min(self._size, pos + ahead))
                self._windows[pos] = data
                if len(self._windows) > CACHE_BLOCKS:
                    self._windows.popitem(last=False)
                parts.append(data[: stop - pos])
        return parts[0] if len(parts) == 1 else b"".join(parts)


# -- http(s): the standard library's urllib (redirects, proxies from the environment) ----------------


def _request(url: str, start: int, stop: int | None) -> HTTPResponse:
    import urllib.request

    from geoenc._version import __version__

    end = "" if stop is None else str(stop - 1)
    headers = {"Range": f"bytes={start}-{end}", "User-Agent": f"geoenc/{__version__}"}
    # an http(s) URL opens as an HTTPResponse (typeshed types urlopen's result as Any)
    resp: HTTPResponse = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S)
    return resp


def _http_error(exc: BaseException, name: str) -> InputError:
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 404:
            return InputError(f"input {name} does not exist (HTTP 404 Not Found)")
        return InputError(f"cannot read {name}: HTTP {exc.code} {exc.reason}")
    if isinstance(exc, urllib.error.URLError):
        return InputError(f"cannot reach {name}: {exc.reason}")
    return InputError(f"cannot read {name}: {type(exc).__name__}: {str(exc)[:200]}")


def _total_size(content_range: str | None) -> int | None:
    """``bytes 0-0/12345`` → 12345 (None when the total is not given)."""
    m = re.match(r"\s*bytes\s+\d+-\d+/(\d+)\s*$", content_range or "")
    return int(m.group(1)) if m else None


def _open_http(url: str, name: str) -> IO[bytes]:
    import http.client
    import urllib.error

    try:
        resp = _request(url, 0, 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # nothing to give from byte 0: an empty file
            return io.BytesIO(b"")
        raise _http_error(exc, name) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        raise _http_error(exc, name) from None
    with resp:
        size = _total_size(resp.headers.get("Content-Range")) if resp.status == 206 else None
        final = resp.geturl()  # after redirects: later requests go straight there
        if size is None:
            # no range support: read the body once into a temporary file (memory up to SPOOL_BYTES)
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
            try:
                if resp.status == 206:  # a range answer without a total size: ask again for everything
                    resp.close()
                    resp = _request(final, 0, None)
                shutil.copyfileobj(resp, spool, 1 << 20)
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                spool.close()
                raise _http_error(exc, name) from None
            spool.seek(0)
            return spool

    def fetch(start: int, stop: int) -> bytes:
        try:
            with _request(final, start, stop) as r:
                if r.status != 206:
                    raise InputError(f"{name}: the server stopped answering range requests (HTTP {r.status})")
                if _total_size(r.headers.get("Content-Range")) != size:
                    raise InputError(f"{name} changed while being read: its size is no longer {size:,} bytes")
                return r.read()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise _http_error(exc, name) from None

    return io.BufferedReader(RangeFile(fetch, size, name), buffer_size=1 << 16)


# -- s3, gs, az/abfs: pyarrow's own file systems -------------------------------------------------------


def _arrow_filesystem(url: str, scheme: str) -> tuple[pafs.FileSystem, str]:
    """(file system, path inside it) for an object-store URL."""
    import pyarrow.fs as pafs

    if scheme == "az":  # az://CONTAINER/PATH, the account named by the environment (as adlfs does)
        account = os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
        if not account:
            raise UsageError(
                "az://CONTAINER/PATH needs the storage account in AZURE_STORAGE_ACCOUNT_NAME "
                "(or write abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH)"
            )
        parts = urlsplit(url)
        kwargs = {}
        if os.environ.get("AZURE_STORAGE_ACCOUNT_KEY"):
            kwargs["account_key"] = os.environ["AZURE_STORAGE_ACCOUNT_KEY"]
        elif os.environ.get("AZURE_STORAGE_SAS_TOKEN"):
            kwargs["sas_token"] = os.environ["AZURE_STORAGE_SAS_TOKEN"]
        return pafs.AzureFileSystem(account, **kwargs), f"{parts.netloc}{parts.path}"
    found: tuple[pafs.FileSystem, str] = pafs.FileSystem.from_uri(url)
    return found


def _open_arrow(url: str, scheme: str, name: str) -> RangeFile:
    import pyarrow as pa

    try:
        fs, path = _arrow_filesystem(url, scheme)
        native = fs.open_input_file(path)
        size = native.size()
    except (ImportError, pa.ArrowNotImplementedError) as exc:
        raise InputError(
            f"this pyarrow build cannot read {scheme}:// ({str(exc).splitlines()[0][:120]}): "
            'install the PyPI wheel, which has S3, GCS and Azure: pip install --force-reinstall "pyarrow>=16"'
        ) from None
    except FileNotFoundError:
        raise InputError(f"input {name} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"input {name} is a directory, not a file of points") from None
    except pa.ArrowInvalid as exc:
        raise UsageError(f"cannot use {name} as an input: {str(exc).splitlines()[0][:200]}") from None
    except OSError as exc:
        raise InputError(f"cannot read {name}: {str(exc).splitlines()[0][:300]}") from None

    def fetch(start: int, stop: int) -> bytes:
        try:
            data = native.read_at(stop - start, start)
        except OSError as exc:
            raise InputError(f"cannot read {name}: {str(exc).splitlines()[0][:300]}") from None
        return data if isinstance(data, bytes) else bytes(data)

    return RangeFile(fetch, size, name)

"""Text inputs (CSV, GeoJSON, newline-delimited GeoJSON) reach the readers as UTF-8 bytes.

- gzip-compressed files (``points.csv.gz``, or any file starting with gzip's magic bytes) are read
  transparently, streamed;
- a byte-order mark says the encoding (UTF-8, UTF-16, UTF-32), and such files are transcoded to UTF-8;
- ``--encoding NAME`` transcodes any other encoding (Latin-1, Windows-1252 …);
- otherwise the text must be UTF-8: a file that is not gets a one-line error naming the first bad byte and
  what to pass, instead of mangled column names or a silent binary column.

Pure Python (``gzip``, ``codecs``); no torch, no typer.
"""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Iterator
from typing import Protocol

from geoenc.errors import InputError, UsageError

GZIP_MAGIC = b"\x1f\x8b"
#: longest first, so UTF-32 LE (FF FE 00 00) is not taken for UTF-16 LE (FF FE)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHUNK = 1 << 20


class ByteStream(Protocol):
    """What the readers use of an open input: a seekable binary file (an open file, ``BytesIO``, a gzip reader,
    a remote file, :class:`Utf8Reader` …)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int: ...

    def tell(self) -> int: ...

    def close(self) -> None: ...

    def __iter__(self) -> Iterator[bytes]: ...


def strip_compression_suffix(name: str) -> str:
    """``pts.csv.gz`` → ``pts.csv`` (the suffix that names the format)."""
    low = name.lower()
    for suffix in (".gz", ".gzip"):
        if low.endswith(suffix):
            return name[: -len(suffix)]
    return name


def decompressed(handle: str | ByteStream) -> str | ByteStream:
    """``handle`` itself, or a streaming gzip reader over it when it starts with gzip's magic bytes."""
    if isinstance(handle, str):
        with open(handle, "rb") as f:
            magic = f.read(2)
        return gzip.open(handle, "rb") if magic == GZIP_MAGIC else handle
    pos = handle.tell()
    magic = handle.read(2)
    handle.seek(pos)
    return gzip.GzipFile(fileobj=handle, mode="rb") if magic == GZIP_MAGIC else handle


def check_encoding_name(name: str) -> str:
    """The canonical codec name for ``--encoding``, or a UsageError."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise UsageError(
            f"unknown --encoding {name!r}: give a codec name such as utf-8, cp1252, latin-1 or utf-16"
        ) from None


def source_encoding(head: bytes, given: str | None, name: str) -> str | None:
    """The encoding to transcode from, or None when the bytes are UTF-8 already (no BOM).

    ``head``: the first bytes of the (decompressed) text. Raises InputError when there is no BOM, no
    ``given`` encoding, and the bytes are not valid UTF-8.
    """
    if given is not None:
        enc = check_encoding_name(given)
        return None if enc == "utf-8" and not head.startswith(codecs.BOM_UTF8) else enc
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a character cut at the end is fine
    except UnicodeDecodeError as exc:
        bad = head[exc.start]
        raise InputError(
            f"{name} is not UTF-8 text (byte 0x{bad:02X} at offset {exc.start}): if it is Latin-1 or Windows-1252 "
            "pass --encoding cp1252, or give the file's encoding with --encoding"
        ) from None
    return None


class Utf8Reader(io.RawIOBase):
    """A binary stream of the UTF-8 encoding of text read from ``raw`` in ``encoding`` (seekable back to 0)."""

    def __init__(self, raw: ByteStream, encoding: str, name: str) -> None:
        super().__init__()
        self.raw, self.encoding, self.name_ = raw, encoding, name
        self._reset()

    def _reset(self) -> None:
        self._decoder = codecs.getincrementaldecoder(self.encoding)()
        self._buf = b""
        self._pos = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET and offset == 0:
            self.raw.seek(0)
            self._reset()
            return 0
        if whence == io.SEEK_SET and offset == self._pos:
            return self._pos
        raise io.UnsupportedOperation("a transcoded text stream can only be rewound to its start")

    def read(self, size: int = -1, /) -> bytes:
        data = super().read(size)
        return b"" if data is None else data  # never None: readinto always returns a count

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while len(self._buf) < len(b) and not self._eof:
            chunk = self.raw.read(_CHUNK)
            try:
                text = self._decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{self.name_} is not valid {self.encoding} text ({exc.reason} near byte "
                    f"{exc.start}): check --encoding"
                ) from None
            self._buf += text.encode("utf-8")
            self._eof = not chunk
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self._pos += n
        return n

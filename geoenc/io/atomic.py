"""One atomic writer for every output geoenc writes: a file or a folder appears whole, or not at all.

- :class:`AtomicFile` writes a file through a temporary sibling (``.NAME.XXXX.part``) that is renamed onto
  the destination by :meth:`~AtomicFile.commit`. An existing FIFO or character device (``-o /dev/stdout``,
  a named pipe) is written through instead: renaming over it would replace the special file. A symlink to a
  regular file is followed, so the file it points to is replaced and the link stays.
- :class:`AtomicDir` builds a folder beside the destination and swaps it in with one rename. With
  ``overwrite`` it replaces only a folder that geoenc wrote (recognised by its manifest, or by the files
  geoenc writes into model folders), never a folder holding anything else, never the working folder or one
  above it, and never a folder that holds an input of the same command.
- :class:`Outputs` groups every output of one command: all are checked before anything is written, and all
  are committed together at the end, or all are discarded — a command writes all its outputs or none.

Every refusal is a one-line :class:`~geoenc.errors.OutputError` that says what to change.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from geoenc.errors import OutputError

if TYPE_CHECKING:
    from typing_extensions import Self

#: written into every folder :class:`AtomicDir` commits: the entries geoenc put there
MANIFEST = ".geoenc-manifest.json"
#: entries of model folders written before manifests existed (geoenc 0.1)
LEGACY_MODEL_ENTRIES = frozenset(
    {"model.safetensors", "config.json", "metrics.json", "train_log.csv", "config.yaml", "checkpoint", "pretrain"}
)

PathLike = str | os.PathLike[str]


def _paths(inputs: Iterable[object]) -> list[Path]:
    """The inputs that are files on disk (not stdin, bytes, file objects or URLs)."""
    return [
        Path(os.fspath(i))
        for i in inputs
        if isinstance(i, (str, os.PathLike)) and str(i) != "-" and "://" not in str(i)
    ]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _is_special(path: Path) -> bool:
    """True for an existing FIFO, character/block device or socket (written through, never replaced)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _is_within(inner: Path, outer: Path) -> bool:
    try:
        inner.resolve().relative_to(outer.resolve())
        return True
    except ValueError:
        return False


def check_output(dest: PathLike, overwrite: bool, *, inputs: Iterable[object] = ()) -> None:
    """Refuse a file destination that cannot or may not be written (before any work is done).

    ``-`` (stdout) and existing special files are always accepted. A regular file that exists needs
    ``overwrite``; a folder, a missing parent folder, or one of the command's own ``inputs`` is refused.
    """
    if str(dest) == "-":
        return
    path = Path(dest)
    if _is_special(path):
        return
    if path.is_dir():
        raise OutputError(f"output {str(path)!r} is a directory: give a file name")
    for src in _paths(inputs):
        if _same_file(path, src):
            raise OutputError(f"output {str(path)!r} is also an input of this command: write to another file")
    if path.exists() and not overwrite:
        raise OutputError(f"output {str(path)!r} already exists: pass --overwrite to replace it")
    parent = path.resolve().parent if path.is_symlink() else path.parent
    if not parent.exists():
        raise OutputError(f"folder {str(parent)!r} for the output does not exist: create it first")


def is_geoenc_dir(path: PathLike) -> bool:
    """True when ``path`` is a folder geoenc wrote and nothing else added files to."""
    d = Path(path)
    if not d.is_dir():
        return False
    entries = {p.name for p in d.iterdir()}
    manifest = d / MANIFEST
    if manifest.is_file():
        try:
            listed = set(json.loads(manifest.read_text()).get("entries", []))
        except (OSError, ValueError, AttributeError):
            return False
        return entries <= listed | {MANIFEST}
    config = d / "config.json"
    if not config.is_file() or not entries <= LEGACY_MODEL_ENTRIES:
        return False
    try:
        cfg = json.loads(config.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(cfg, dict) and "format_version" in cfg and "geoenc_version" in cfg


def check_output_dir(dest: PathLike, overwrite: bool, *, inputs: Iterable[object] = (), resume: bool = False) -> None:
    """Refuse a folder destination that cannot or may not be written (see :class:`AtomicDir`).

    ``resume`` accepts the existing folder of an interrupted run without ``overwrite``.
    """
    out = Path(dest)
    if str(dest) in ("", "-"):
        raise OutputError("a folder output needs a folder name, not stdout")
    if out.exists() and not out.is_dir():
        raise OutputError(f"output {str(out)!r} exists and is not a folder: choose another path")
    parent = out.absolute().parent
    if not parent.exists():
        raise OutputError(f"cannot write {str(out)!r}: folder {str(parent)!r} does not exist")
    if not out.exists():
        return
    if _is_within(Path.cwd(), out):
        raise OutputError(
            f"output {str(out)!r} is the working folder or holds it: give a new folder name, e.g. -o model/"
        )
    for src in _paths(inputs):
        if src.exists() and _is_within(src, out):
            raise OutputError(
                f"output folder {str(out)!r} holds {str(src)!r}, an input of this command: "
                "write the model to another folder"
            )
    if not (overwrite or resume):
        raise OutputError(f"output {str(out)!r} already exists: pass --overwrite to replace it")
    if not any(out.iterdir()):
        return
    if not is_geoenc_dir(out):
        raise OutputError(
            f"output folder {str(out)!r} holds files geoenc did not write: --overwrite only replaces geoenc's own "
            "folders; choose a new folder name"
        )


class _Transaction:
    """Commit on a clean exit from the ``with`` block, discard on an exception."""

    def commit(self) -> object:
        raise NotImplementedError

    def discard(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


class AtomicFile(_Transaction):
    """A temporary file beside ``dest``, renamed onto it by :meth:`commit` and removed by :meth:`discard`.

    ``path`` is where to write. Use as a context manager to commit on success and discard on error.
    """

    def __init__(self, dest: PathLike, overwrite: bool = False, *, inputs: Iterable[object] = ()) -> None:
        check_output(dest, overwrite, inputs=inputs)
        self.dest = Path(dest)
        self.overwrite = overwrite
        self.through = _is_special(self.dest)
        if self.through:
            self.path = self.dest
            return
        if self.dest.is_symlink():
            self.dest = self.dest.resolve()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.dest.name}.", suffix=".part", dir=self.dest.parent)
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a result file gets the usual permissions
        self.path = Path(tmp)

    def commit(self) -> None:
        if self.through:
            return
        if self.dest.exists() and not self.overwrite:
            self.discard()
            raise OutputError(f"output {str(self.dest)!r} appeared while writing: pass --overwrite to replace it")
        os.replace(self.path, self.dest)

    def discard(self) -> None:
        if self.through:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class AtomicDir(_Transaction):
    """A folder built beside ``dest`` (``path``) and swapped in by :meth:`commit` with one rename.

    On commit a manifest of the entries is added, so a later ``--overwrite`` recognises the folder as
    geoenc's own. ``resume`` (an interrupted training run continuing in its folder) needs no ``overwrite``.
    """

    def __init__(
        self, dest: PathLike, overwrite: bool = False, *, inputs: Iterable[object] = (), resume: bool = False
    ) -> None:
        check_output_dir(dest, overwrite, inputs=inputs, resume=resume)
        self.dest = Path(dest)
        parent = self.dest.absolute().parent
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.tmp-", dir=parent))
        os.chmod(self.path, 0o777 & ~_umask())  # mkdtemp makes 0700; a result folder gets the usual permissions

    def commit(self) -> Path:
        # files some libraries create 0600 (safetensors does) get the usual permissions, like every other output
        mask = _umask()
        for item in self.path.rglob("*"):
            os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~mask)
        entries = sorted(p.name for p in self.path.iterdir())
        (self.path / MANIFEST).write_text(json.dumps({"written_by": "geoenc", "entries": entries}, indent=1) + "\n")
        old = None
        if self.dest.exists():
            old = self.path.with_name(self.path.name.replace(".tmp-", ".old-", 1))
            os.replace(self.dest, old)
        try:
            os.replace(self.path, self.dest)
        except BaseException:
            if old is not None:
                os.replace(old, self.dest)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.dest

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class Outputs(_Transaction):
    """Every output of one command: checked up front, committed together, or all discarded.

    ``with Outputs(overwrite, inputs=[…]) as out: tif = out.file(path); png = out.file(other)`` — each
    ``file``/``dir`` call checks its destination at once (so a bad one fails before any work) and returns the
    :class:`AtomicFile`/:class:`AtomicDir` to write through. Two outputs with the same path are refused.
    """

    def __init__(self, overwrite: bool = False, *, inputs: Iterable[object] = ()) -> None:
        self.overwrite = overwrite
        self.inputs = list(inputs)
        self._items: list[AtomicFile | AtomicDir] = []
        self._seen: dict[str, str] = {}

    def _claim(self, dest: PathLike) -> None:
        key = os.path.abspath(os.fspath(dest))
        if key in self._seen:
            raise OutputError(f"{self._seen[key]} and another output both name {str(dest)!r}: give each its own path")
        self._seen[key] = str(dest)

    def file(self, dest: PathLike) -> AtomicFile:
        if str(dest) != "-":
            self._claim(dest)
        item = AtomicFile(dest, self.overwrite, inputs=self.inputs)
        self._items.append(item)
        return item

    def dir(self, dest: PathLike, *, resume: bool = False) -> AtomicDir:
        self._claim(dest)
        item = AtomicDir(dest, self.overwrite, inputs=self.inputs, resume=resume)
        self._items.append(item)
        return item

    def commit(self) -> None:
        for item in self._items:
            item.commit()
        self._items = []

    def discard(self) -> None:
        for item in self._items:
            item.discard()
        self._items = []


@contextlib.contextmanager
def atomic_dir(dest: PathLike, overwrite: bool = False, **kw: object) -> Iterator[Path]:
    """``with atomic_dir(out, overwrite) as tmp:`` write files under ``tmp``; committed on success."""
    d = AtomicDir(dest, overwrite, **kw)  # type: ignore[arg-type]
    with d:
        yield d.path


def open_target(
    dest: PathLike | AtomicFile, overwrite: bool = False, inputs: Iterable[object] = ()
) -> tuple[AtomicFile, bool]:
    """The :class:`AtomicFile` to write ``dest`` through, and whether the caller owns it (commits it).

    Writers take either a path (they make, commit or discard their own temporary file) or an
    :class:`AtomicFile` from an :class:`Outputs` group (the group commits it with the command's other outputs).
    """
    if isinstance(dest, AtomicFile):
        return dest, False
    return AtomicFile(dest, overwrite, inputs=inputs), True


@contextlib.contextmanager
def writing(dest: PathLike | AtomicFile, overwrite: bool = False, inputs: Iterable[object] = ()) -> Iterator[Path]:
    """``with writing(dest) as tmp:`` write the file at ``tmp``; it replaces ``dest`` when the block succeeds.

    ``dest`` is a path, or an :class:`AtomicFile` of an :class:`Outputs` group (then the group commits it).
    """
    atomic, own = open_target(dest, overwrite, inputs)
    try:
        yield atomic.path
    except BaseException:
        if own:
            atomic.discard()
        raise
    if own:
        atomic.commit()


def dest_path(dest: PathLike | AtomicFile) -> Path:
    """Where an output ends up (the destination of an :class:`AtomicFile`, or the path itself)."""
    return dest.dest if isinstance(dest, AtomicFile) else Path(dest)

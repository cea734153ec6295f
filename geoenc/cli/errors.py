"""How failures reach the user: one line on stderr and an exit code (CONVENTIONS, "The command line").

0 success; 1 bad data or a runtime failure; 2 usage errors; 130 interrupted (Ctrl-C), 143 terminated. Tracebacks
only with ``--debug`` or ``GEOENC_DEBUG=1``. "internal error … please report it" is kept for geoenc's own bugs.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback

import typer

from geoenc.errors import GeoencError

_state = {"debug": False}
#: one line, however long the message: longer ones are cut here (a 200,000-column header must not flood a terminal)
MAX_MESSAGE = 500


def set_debug(on: bool) -> None:
    _state["debug"] = bool(on)


def debug_enabled() -> bool:
    return _state["debug"] or os.environ.get("GEOENC_DEBUG", "") not in ("", "0")


def one_line(message: object, limit: int = MAX_MESSAGE) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def say(message: object) -> None:
    with contextlib.suppress(OSError):
        sys.stderr.write(f"geoenc: error: {one_line(message)}\n")
        sys.stderr.flush()


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that temporary outputs are removed on the way out."""


def _quiet_stdout() -> None:
    """The reader of our stdout went away (`| head`): point stdout at /dev/null so the exit flush is silent."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def exit_code_for(exc: BaseException, command: str = "") -> int:
    """Print the one-line message for ``exc`` and return the exit code it maps to."""
    if debug_enabled():
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, GeoencError):
        say(exc)
        return exc.exit_code
    if isinstance(exc, typer.TyperException):  # typer's (click's) usage and parameter errors
        code = int(getattr(exc, "exit_code", 1))
        text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if code == 2:
            text += f" (see 'geoenc {command} --help')" if command else " (see 'geoenc --help')"
        say(text)
        return code
    if isinstance(exc, Terminated):
        say("terminated")
        return 143
    if isinstance(exc, (typer.Abort, KeyboardInterrupt)):
        say("interrupted")
        return 130
    if isinstance(exc, BrokenPipeError):  # a closed pipe is a normal end of a pipeline
        _quiet_stdout()
        return 0
    if isinstance(exc, MemoryError):
        say("out of memory: lower --batch-size, or use a machine with more memory")
        return 1
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        say(f"{exc.strerror or exc}{where}")
        return 1
    say(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug for the traceback, and please report it")
    return 1

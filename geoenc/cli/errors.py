"""How failures reach the user: one line on stderr and an exit code (CONVENTIONS, "The command line").

0 success; 1 bad data or a runtime failure; 2 usage errors. Tracebacks only with ``--debug`` or
``GEOENC_DEBUG=1``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback

import typer
from typer._click import exceptions as click_exc

from geoenc.errors import GeoencError

_state = {"debug": False}


def set_debug(on: bool) -> None:
    _state["debug"] = bool(on)


def debug_enabled() -> bool:
    return _state["debug"] or os.environ.get("GEOENC_DEBUG", "") not in ("", "0")


def _say(message: str) -> None:
    text = " ".join(str(message).split())  # one line, whatever the message held
    sys.stderr.write(f"geoenc: error: {text}\n")
    sys.stderr.flush()


def exit_code_for(exc: BaseException, command: str = "") -> int:
    """Print the one-line message for ``exc`` and return the exit code it maps to."""
    if debug_enabled():
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, GeoencError):
        _say(str(exc))
        return exc.exit_code
    if isinstance(exc, click_exc.UsageError):
        hint = f" (see 'geoenc {command} --help')" if command else " (see 'geoenc --help')"
        _say(exc.format_message() + hint)
        return 2
    if isinstance(exc, click_exc.ClickException):
        _say(exc.format_message())
        return exc.exit_code
    if isinstance(exc, (typer.Abort, KeyboardInterrupt)):
        _say("interrupted")
        return 130
    if isinstance(exc, BrokenPipeError):
        # the reader of our stdout went away (`| head`): nothing to report
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces stdout for the rest of the process
        return 1
    if isinstance(exc, MemoryError):
        _say("out of memory: lower --batch-size")
        return 1
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        _say(f"{exc.strerror or exc}{where}")
        return 1
    _say(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug for the traceback, and please report it")
    return 1

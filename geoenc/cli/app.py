"""The typer application object and its error-handling group class (commands register in main.py)."""

from __future__ import annotations

import errno
import signal
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from geoenc.cli.errors import Terminated, exit_code_for


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


class _FlagHelp:
    """Flags (``--help``, typer's completion options …) are shown without a value placeholder."""

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and not getattr(param, "metavar", None):
                param.metavar = " "
        return params


class GeoencCommand(_FlagHelp, TyperCommand):
    """A command whose help lists -h/--help as a flag."""


class _Carried(Exception):
    """An exception typer would swallow (Ctrl-C → a silent exit 130, a closed pipe → exit 1), carried to our handler."""

    def __init__(self, inner: BaseException) -> None:
        super().__init__(str(inner))
        self.inner = inner


class GeoencGroup(_FlagHelp, TyperGroup):
    """Runs a command and turns every failure into one line on stderr plus an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Carried(exc) from exc
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise _Carried(BrokenPipeError(errno.EPIPE, "broken pipe")) from exc
            raise

    def _command_name(self, argv: list[str]) -> str:
        """The subcommand the user called (the first argument that names one), for the help hint."""
        return next((a for a in argv if a in self.commands), "")

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        command = self._command_name(argv)
        previous = None
        if standalone_mode:  # SIGTERM cleans up like Ctrl-C (no half-written files left behind)
            try:
                previous = signal.signal(signal.SIGTERM, _terminate)
            except ValueError:  # not the main thread
                previous = None
        try:
            rv = super().main(
                args=argv,
                prog_name=prog_name or "geoenc",
                complete_var=complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
            code = rv if isinstance(rv, int) else 0
        except typer.Exit as exc:
            code = exc.exit_code
        except _Carried as exc:
            code = exit_code_for(exc.inner, command)
        except BaseException as exc:
            if isinstance(exc, SystemExit):
                raise
            code = exit_code_for(exc, command)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        if standalone_mode:
            try:
                if sys.stdout is not None:
                    sys.stdout.flush()
            except BrokenPipeError:
                exit_code_for(BrokenPipeError())
            except OSError:
                pass  # stdout closed or gone: nothing left to say there
            sys.exit(code)
        return code


app = typer.Typer(
    name="geoenc",
    cls=GeoencGroup,
    help="Location encoders, location models and geo-bias scores for geographic points.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

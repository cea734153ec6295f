"""Every error geoenc raises on purpose.

Each message is one line that says what is wrong and what to change. The command line maps
:class:`UsageError` to exit code 2 and every other :class:`GeoencError` to exit code 1, and
prints no traceback unless ``--debug`` or ``GEOENC_DEBUG=1``.
"""

from __future__ import annotations


class GeoencError(Exception):
    """Base class: a problem the user can fix, described in one line."""

    exit_code = 1


class UsageError(GeoencError):
    """The command was called wrongly (bad option combination, unknown method, bad parameter)."""

    exit_code = 2


class UnknownNameError(UsageError):
    """A name (encoder, net, loss, column …) that is not known; the message lists the valid ones."""


class ParameterError(UsageError):
    """A parameter value outside its valid range or of the wrong type."""


class InputError(GeoencError):
    """Input data that cannot be used: unreadable file, missing column, bad coordinates."""


class OutputError(GeoencError):
    """An output that cannot be written (exists without --overwrite, binary to a terminal …)."""


class ModelError(GeoencError):
    """A model directory that cannot be loaded (missing files, newer format, tampered weights)."""


class ClusterError(GeoencError):
    """A compute cluster (``--engine dask``) that cannot be reached, or a task on it that kept failing."""


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ' (did you mean X?)' for the closest choice, or '' when nothing is close."""
    import difflib

    lowered = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[match[0]]!r}?)" if match else ""

"""What commands print: a rich progress bar and summaries on stderr, JSON data on stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

stderr = Console(stderr=True)


def enabled(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(description: str, quiet: bool = False) -> Iterator[Callable[..., None]]:
    """Yield ``update(done, total=None, **fields)``; a no-op when the bar is off."""
    if not enabled(quiet):
        yield lambda done, total=None, **fields: None
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
    ]
    with Progress(*columns, console=stderr, transient=False, redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task(description, total=None, info="")

        def update(done: int, total: int | None = None, **fields: object) -> None:
            info = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items())
            bar.update(task, completed=done, total=total, info=info)

        yield update


def note(message: str, quiet: bool = False) -> None:
    """A summary line on stderr (never stdout, which carries data)."""
    if not quiet:
        stderr.print(message, highlight=False, soft_wrap=True)


def json_safe(obj: object) -> object:
    """NaN and infinities → None (null), so printed JSON is valid; tuples → lists."""
    import math

    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def echo_json(obj: object) -> None:
    """Print ``obj`` as indented, valid JSON on stdout (the data channel)."""
    import json

    sys.stdout.write(json.dumps(json_safe(obj), indent=2, default=str) + "\n")
    sys.stdout.flush()

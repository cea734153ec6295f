"""Running geoenc's tasks on Dask (``--engine dask``), or in this process (``--engine local``, the default).

Every distributed workflow is written against one small hook, a *mapper*::

    for index, value in mapper(fn, shared, items):   # value = fn(shared, items[index]), in completion order
        ...

:func:`local_mapper` runs the items one after the other here. :class:`DaskMapper` runs them as Dask tasks:
``shared`` (the encoder or model, the point set of a geo-bias run, the map's block function) is scattered to
every worker once (``client.scatter(..., broadcast=True)``) and each task receives it by reference, so it is
sent once per worker, not once per task. Tasks are submitted in a sliding window (a few per worker thread:
bounded memory on the client for results such as map blocks). A task that raises is retried by Dask
(``retries``); a worker that dies is replaced and its tasks rescheduled by the scheduler. A task that keeps
failing is reported in one line. Ctrl-C (or any error) cancels every outstanding task of the run.

:func:`engine` opens the mapper for ``--engine``/``--scheduler``: a scheduler address (``tcp://host:8786``) is
connected to (a one-line :class:`~geoenc.errors.ClusterError` when it does not answer within the timeout);
``local[:N]`` starts a ``LocalCluster`` of N single-threaded worker processes on the loopback address for the
run. Dask is imported only here and only when ``--engine dask`` is used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from geoenc.errors import ClusterError, GeoencError, UsageError

ENGINES = ("local", "dask")
#: attempts after the first for a task that raises (Dask's ``retries``)
DEFAULT_RETRIES = 2
#: seconds to wait for a scheduler to answer (GEOENC_DASK_TIMEOUT overrides)
DEFAULT_TIMEOUT_S = 10.0
#: tasks in flight per worker thread (at least MIN_WINDOW): enough queued work that a worker never waits for
#: the client's next submission; ``ordered`` callers (map blocks, which the client buffers) keep 2 per thread
WINDOW_PER_THREAD = 4
MIN_WINDOW = 16

Mapper = Callable[..., Iterator[tuple[int, Any]]]


@dataclass
class TaskFailure:
    """An item whose task kept failing (``keep_going=True``): the one-line reason."""

    message: str


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


def _task_exception(value: Any) -> BaseException | None:
    """The exception of a failed task as ``as_completed(with_results=True, raise_errors=False)`` yields it: an
    ``(type, exception, traceback)`` tuple (the exception itself in some versions of distributed)."""
    if isinstance(value, BaseException):
        return value
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return value[1]
    return None


def local_mapper(
    fn: Callable[[Any, Any], Any],
    shared: Any,
    items: Sequence[Any],
    *,
    keep_going: bool = False,
    name: str = "",
    ordered: bool = False,
) -> Iterator[tuple[int, Any]]:
    """``fn(shared, item)`` for every item, in order, in this process."""
    for i, item in enumerate(items):
        yield i, fn(shared, item)


class DaskMapper:
    """Run ``fn(shared, item)`` as one Dask task per item on ``client``'s cluster (see the module docstring)."""

    def __init__(self, client: Any, retries: int = DEFAULT_RETRIES, window: int | None = None) -> None:
        self.client = client
        self.retries = int(retries)
        self._window = window

    @property
    def threads(self) -> int:
        return max(1, int(sum(self.client.nthreads().values())))

    def __call__(
        self,
        fn: Callable[[Any, Any], Any],
        shared: Any,
        items: Sequence[Any],
        *,
        keep_going: bool = False,
        name: str = "",
        ordered: bool = False,
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(shared, items[index]))`` as tasks complete.

        ``ordered``: the caller writes results in item order, so item i is submitted only once every item
        before ``i - window`` has come back: what the caller buffers stays bounded by the window.

        A task that fails after its retries raises (the task's own :class:`~geoenc.errors.GeoencError`, else a
        :class:`~geoenc.errors.ClusterError` naming it), or with ``keep_going`` yields a :class:`TaskFailure`
        for that item and goes on. Leaving the loop early (an error, Ctrl-C) cancels the outstanding tasks.
        """
        from distributed import as_completed

        if not items:
            return
        client = self.client
        label = f"geoenc-{name or getattr(fn, '__name__', 'task')}-{uuid.uuid4().hex[:8]}"
        [shared_f] = client.scatter([shared], broadcast=True, hash=False)
        window = self._window or (2 * self.threads if ordered else max(MIN_WINDOW, WINDOW_PER_THREAD * self.threads))
        pending: dict[Any, int] = {}
        # results are fetched as tasks end; a failed task yields its exception instead of raising here
        ac: Any = as_completed(loop=client.loop, with_results=True, raise_errors=False)  # type: ignore[no-untyped-call]
        nxt = 0  # the next item to submit
        low = 0  # every item before it has come back
        back: set[int] = set()  # items at or after ``low`` that have come back

        def submit_more() -> None:
            nonlocal nxt
            while nxt < len(items) and len(pending) < window:
                if ordered and nxt >= low + window:
                    return
                f = client.submit(fn, shared_f, items[nxt], key=f"{label}-{nxt}", retries=self.retries, pure=False)
                pending[f] = nxt
                ac.add(f)
                nxt += 1

        def returned(i: int) -> None:
            nonlocal low
            back.add(i)
            while low in back:
                back.discard(low)
                low += 1
            submit_more()

        try:
            submit_more()
            for f, value in ac:
                i = pending.pop(f)
                status = f.status
                f.release()
                if status == "finished":
                    returned(i)
                    yield i, value
                    continue
                exc = _task_exception(value) if status == "error" else None
                what = f"task {i + 1} of {len(items)} ({name or 'geoenc'})"
                if exc is None:
                    reason = f"{what} was cancelled on the cluster"
                elif isinstance(exc, GeoencError):
                    reason = str(exc)
                else:
                    reason = f"{what} failed after {self.retries + 1} attempts: {type(exc).__name__}: {_one_line(exc)}"
                if not keep_going:
                    if isinstance(exc, GeoencError):
                        raise exc
                    raise ClusterError(reason)
                returned(i)
                yield i, TaskFailure(reason)
        finally:
            if pending:
                with contextlib.suppress(Exception):  # the run is ending anyway: cancel what is left
                    client.cancel(list(pending), force=True)
            with contextlib.suppress(Exception):
                shared_f.release()


# -- choosing and opening an engine -------------------------------------------------------------------------


def resolve_engine(engine: str | None, scheduler: str | None) -> str:
    """``--engine`` and ``--scheduler`` → ``local`` or ``dask`` (a scheduler alone means dask)."""
    if engine is None:
        return "dask" if scheduler else "local"
    low = engine.strip().lower()
    if low not in ENGINES:
        raise UsageError(f"unknown --engine {engine!r}: choose local or dask")
    if low == "local" and scheduler:
        raise UsageError("--scheduler goes with --engine dask (leave out --engine local)")
    return low


def parse_scheduler(text: str | None) -> tuple[str, int | str | None]:
    """``local`` / ``local:N`` → ("local", N or None); anything else → ("address", "tcp://…")."""
    text = (text or os.environ.get("DASK_SCHEDULER_ADDRESS") or "local").strip()
    low = text.lower()
    if low == "local" or low.startswith("local:"):
        n_text = low.partition(":")[2]
        if not n_text:
            return "local", None
        if not n_text.isdigit() or int(n_text) < 1:
            raise UsageError(f"--scheduler {text!r}: give local:N with N worker processes (1 or more)")
        return "local", int(n_text)
    if "://" not in text:
        text = "tcp://" + text
    return "address", text


def _timeout() -> float:
    raw = os.environ.get("GEOENC_DASK_TIMEOUT", "")
    try:
        return float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        raise UsageError(f"GEOENC_DASK_TIMEOUT must be a number of seconds, got {raw!r}") from None


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError("--engine dask needs Dask: pip install 'geoenc[dask]'") from None
    return distributed


@contextlib.contextmanager
def dask_client(scheduler: str | Any | None = None) -> Iterator[Any]:
    """A connected ``distributed.Client`` (closed at the end when opened here).

    ``scheduler``: an address, ``local[:N]``, None (``$DASK_SCHEDULER_ADDRESS``, else ``local``), or a
    ``distributed.Client`` the caller owns (used as it is, not closed).
    """
    distributed = _import_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    kind, value = parse_scheduler(scheduler)
    timeout = _timeout()
    cluster = None
    if kind == "local":
        n = int(value) if value else max(1, os.cpu_count() or 1)
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
    else:
        try:
            client = distributed.Client(str(value), timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"no Dask scheduler answered at {value} within {timeout:g} s ({type(exc).__name__}): start one "
                "(`dask scheduler`), check the address, or use --scheduler local"
            ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            raise ClusterError(f"the Dask scheduler at {value} has no workers (waited {timeout:g} s)") from None
        yield client
    finally:
        with contextlib.suppress(Exception):  # closing a cluster that is going away must not mask the real error
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


@contextlib.contextmanager
def engine(
    name: str | None = None,
    scheduler: str | Any | None = None,
    *,
    retries: int = DEFAULT_RETRIES,
    log: Callable[[str], None] | None = None,
) -> Iterator[Mapper | None]:
    """The mapper for ``--engine``/``--scheduler``: None for the local engine, a :class:`DaskMapper` for dask."""
    if resolve_engine(name, scheduler if isinstance(scheduler, str) or scheduler is None else "client") == "local":
        yield None
        return
    with dask_client(scheduler) as client:
        mapper = DaskMapper(client, retries=retries)
        if log:
            workers = client.nthreads()
            log(f"dask: {len(workers)} worker(s), {sum(workers.values())} thread(s) at {client.scheduler.address}")
        yield mapper

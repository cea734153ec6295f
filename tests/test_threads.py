"""The default thread count follows the free CPUs; --threads / set_threads overrides it everywhere."""

from __future__ import annotations

import sys

import pytest

from geoenc import threads


def test_busy_cpus_is_a_share_of_the_machine():
    busy = threads.busy_cpus(0.02)
    if sys.platform.startswith("linux"):
        assert busy is not None and 0.0 <= busy <= threads.os.cpu_count() + 1e-9
    else:
        assert busy is None or busy >= 0.0


@pytest.mark.parametrize(
    ("busy", "expected"),
    [
        (0.0, lambda cpus: min(cpus, threads.MAX_DEFAULT)),  # idle: every CPU (at most 8)
        (None, lambda cpus: min(cpus, threads.MAX_DEFAULT)),  # unknown: as idle
        (1e9, lambda cpus: 1),  # every core busy: one thread
        (1.0, lambda cpus: max(1, min(cpus - 1, threads.MAX_DEFAULT))),
    ],
)
def test_default_takes_the_free_cpus(monkeypatch, busy, expected):
    monkeypatch.setattr(threads, "busy_cpus", lambda interval=0.05: busy)
    assert threads.default_threads() == expected(threads.cpu_count())


def test_set_threads_reaches_torch_and_get_threads(monkeypatch):
    import torch

    before = torch.get_num_threads()
    monkeypatch.setitem(threads._chosen, "threads", None)
    try:
        assert threads.set_threads(1) == 1
        assert threads.get_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_the_cli_option_sets_the_count(cli, monkeypatch):
    import torch

    before = torch.get_num_threads()
    monkeypatch.setitem(threads._chosen, "threads", None)
    try:
        result = cli("--threads", "1", "methods", "--json")
        assert result.exit_code == 0
        assert threads.get_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)

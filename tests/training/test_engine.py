"""The shared training engine: exact resume after a real SIGINT/SIGTERM (train, pretrain, autoencode),
divergence caught, named seed streams, the global RNG left alone."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from geoenc.training import DivergedError, Seeds, train
from geoenc.training.engine import derive_seed
from tests.training.helpers import quadrants, small_config

ROOT = Path(__file__).resolve().parents[2]


def _run(kind: str, out: Path, *extra: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-m", "tests.training.resume_script", kind, str(out), *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout.strip()


def _digest(folder: Path) -> str:
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["train", "pretrain", "autoencode"])
def test_resume_after_a_real_signal_gives_the_same_weights(kind, tmp_path):
    whole = tmp_path / "whole"
    assert _run(kind, whole) == "done"
    steps = json.loads((whole / "metrics.json").read_text())
    assert steps  # metrics written
    # interrupted inside the first epoch, on the boundary after one batch of the second, and late in the run
    for stop, sig in ((2, "INT"), (6, "TERM"), (11, "INT")):
        out = tmp_path / f"stop{stop}"
        assert _run(kind, out, "--stop-at", str(stop), "--signal", sig) == "interrupted"
        assert (out / "checkpoint" / "state.safetensors").is_file()
        assert _run(kind, out, "--resume") == "done"
        assert not (out / "checkpoint").exists()
        assert _digest(out) == _digest(whole), f"{kind} resumed after batch {stop} differs"


def test_divergence_stops_with_one_line_and_keeps_the_last_good_state(tmp_path, monkeypatch):
    import geoenc.training.supervised as sup

    real, calls = sup.supervised_loss, {"n": 0}

    def nan_in_epoch_two(name, out, y):  # 400·0.75/64 → 5 batches an epoch: batch 8 is in epoch 2
        calls["n"] += 1
        loss = real(name, out, y)
        return loss * float("nan") if calls["n"] >= 8 else loss

    monkeypatch.setattr(sup, "supervised_loss", nan_in_epoch_two)
    out = tmp_path / "m"
    with pytest.raises(DivergedError, match="became NaN or infinite in epoch 2") as info:
        train(small_config(epochs=4, val_fraction=0.25), quadrants(), out_dir=out)
    assert "--resume" in str(info.value) and "lower --lr" in str(info.value)
    from safetensors.torch import load_file

    weights = load_file(str(out / "model.safetensors"))
    assert all(bool(torch.isfinite(v).all()) for v in weights.values())  # the state kept is the good one
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 1 and state["step"] == 0  # the start of the epoch that diverged


def test_settings_that_cannot_train_are_refused_up_front():
    from geoenc.errors import ParameterError

    for bad in ({"lr": float("inf")}, {"lr": 1e30}, {"weight_decay": float("inf")}, {"lr": float("nan")}):
        with pytest.raises(ParameterError, match="must be a finite number"):
            small_config(**bad).validate()


def test_named_seed_streams_are_stable_and_independent():
    assert derive_seed(0, "batches") == derive_seed(0, "batches") != derive_seed(0, "negatives")
    assert derive_seed(1, "batches") != derive_seed(0, "batches") and 0 <= derive_seed(5, "x") < 2**63
    a, b = Seeds(3), Seeds(3)
    a.generator("negatives")  # using one stream does not move another
    assert torch.equal(torch.rand(4, generator=a.generator("batches")), torch.rand(4, generator=b.generator("batches")))


def test_training_leaves_the_callers_random_state_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    train(small_config(epochs=1), quadrants(100))
    assert torch.equal(torch.get_rng_state(), before)
    assert math.isfinite(torch.rand(1).item())


def test_runs_that_cannot_fit_in_memory_are_refused_up_front(monkeypatch):
    import geoenc.training.memory as memory
    from geoenc.errors import ParameterError

    monkeypatch.setattr(memory, "physical_memory", lambda: 64 << 20)  # a 64 MiB machine
    cfg = small_config(net_params={"hidden": 4096, "out": 2048, "dropout": 0.0})  # ~8.4M parameters: ~134 MiB Adam
    with pytest.raises(ParameterError, match=r"needs about .* GiB, more than the .* GiB this machine can give") as e:
        train(cfg, quadrants(100))
    assert "--batch-size" in str(e.value)
    train(small_config(epochs=1), quadrants(100))  # a small model still trains on that machine

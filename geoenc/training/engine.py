"""One training engine for every model geoenc trains (in the spirit of torchgeo's ``trainers/base.py``).

Supervised location models (:mod:`geoenc.training.supervised`), contrastive pre-training
(:mod:`geoenc.pretrain.loop`) and the image autoencoder (:mod:`geoenc.imagery.training`) each describe their
work as a :class:`Task` — a model, a loss for a batch of row indices, an evaluation — and the
:class:`Engine` does the rest the same way for all of them:

- **seeding**: named generators (:class:`Seeds`: ``init``, ``batches``, ``negatives`` …, each from the run's
  seed and its name); torch's global RNG is left as the caller had it (the run works in a forked RNG stream
  seeded from ``Seeds``, which dropout draws from);
- the epoch/batch loop, one :class:`ProgressEvent` type, the optimiser (AdamW/Adam) and learning-rate
  schedule factory (:func:`make_optimizer`), early stopping on the task's validation score (best weights
  restored), mixed precision on CUDA (bf16/fp16 with a grad scaler), DDP under ``torchrun``;
- **divergence**: a loss that turns NaN/inf stops the run with :class:`DivergedError` (one line, exit 1),
  keeping the last good state (the start of the epoch) as a resumable checkpoint;
- **interrupts**: SIGINT (Ctrl-C) or SIGTERM stop the run *between* batches, never inside an optimiser
  step; the state at that batch boundary (weights, optimiser, schedule, every RNG, the epoch's running
  sums) is returned as a :class:`Checkpoint`, and resuming from it gives bit-identical weights to a run that
  was never interrupted. A second signal interrupts at once.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import math
import os
import signal
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from geoenc.device import amp_dtype, resolve_device
from geoenc.errors import GeoencError, InputError, ModelError

if TYPE_CHECKING:
    from geoenc.models.spec import ModelSpec

SCHEDULES = ("exp", "cosine", "constant", "onecycle")
OPTIMIZERS = ("adamw", "adam")


class DivergedError(GeoencError):
    """The loss became NaN or infinite: the run stopped; ``checkpoint`` is its last good state (or None)."""

    def __init__(self, message: str, checkpoint: Checkpoint | None = None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint


# -- seeding -------------------------------------------------------------------------------------------
def derive_seed(seed: int, name: str) -> int:
    """A 63-bit seed for the stream ``name`` of run ``seed`` (stable across runs, platforms and versions)."""
    digest = hashlib.sha256(f"{int(seed)}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class Seeds:
    """Named, independent, seeded random streams of one run: ``seeds.generator("batches")``.

    Each name gets its own ``torch.Generator`` (created on first use, on the CPU), so adding a new random
    draw somewhere never shifts the others. ``state()``/``load()`` save and restore every stream.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._gens: dict[str, torch.Generator] = {}

    def seed_for(self, name: str) -> int:
        return derive_seed(self.seed, name)

    def generator(self, name: str) -> torch.Generator:
        if name not in self._gens:
            self._gens[name] = torch.Generator().manual_seed(self.seed_for(name))
        return self._gens[name]

    def numpy(self, name: str) -> Any:
        """A fresh numpy ``Generator`` for the stream ``name`` (splits, subsets: drawn once per run)."""
        import numpy as np

        return np.random.default_rng(self.seed_for(name))

    @contextlib.contextmanager
    def global_stream(self, name: str, device: torch.device | None = None) -> Iterator[None]:
        """Run a block with torch's global RNG seeded for ``name``; the caller's global RNG is restored after.

        Module initialisation and dropout draw from the global RNG; this keeps them seeded without
        touching the state a user's own code relies on.
        """
        devices = [device] if device is not None and device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed_for(name))
            yield

    def state(self) -> dict[str, Tensor]:
        return {name: g.get_state() for name, g in self._gens.items()}

    def load(self, states: dict[str, Tensor]) -> None:
        for name, st in states.items():
            self.generator(name).set_state(st)


# -- configuration ----------------------------------------------------------------------------------------
@dataclass
class EngineConfig:
    """How the engine trains (the task decides what): budget, optimiser, schedule, stopping, precision."""

    epochs: int = 30
    batch_size: int = 1024
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    schedule: str = "exp"
    lr_decay: float = 0.98
    #: stop after this many epochs without a better validation score (None: never stop early)
    patience: int | None = 10
    #: drop the last, smaller batch of each epoch (contrastive losses depend on the batch size)
    drop_last: bool = False
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    #: batches between the checks that the loss is finite (each check waits for the device)
    check_every: int = 50


def make_optimizer(
    params: list[nn.Parameter], cfg: EngineConfig, steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, Any, bool]:
    """The optimiser, its learning-rate schedule, and whether the schedule steps per batch (else per epoch)."""
    if not params:
        raise ModelError("nothing to train: every parameter of the model is frozen")
    opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    opt = opt_cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.schedule == "exp":
        return opt, torch.optim.lr_scheduler.ExponentialLR(opt, gamma=cfg.lr_decay), False
    if cfg.schedule == "cosine":
        return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs), False
    if cfg.schedule == "onecycle":
        total = max(1, cfg.epochs * steps_per_epoch)
        return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=0.1), True
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0), False


# -- what a task provides ------------------------------------------------------------------------------------
class Task:
    """One kind of training: subclasses set ``model`` and ``n_train`` and implement :meth:`step`.

    ``step(module, idx, seeds)`` returns the loss of the batch of training rows ``idx`` (a 1-D index tensor on
    the training device) and named extra terms; ``module`` is ``model`` or its DDP wrapper (call it for the
    forward pass). :meth:`evaluate` returns validation metrics (``{}`` without a validation split) and
    :meth:`score` turns them into a number to maximise for early stopping (None: no early stopping).
    """

    model: nn.Module
    n_train: int

    def parameters(self) -> list[nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def step(self, module: nn.Module, idx: Tensor, seeds: Seeds) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError

    def evaluate(self) -> dict[str, float]:
        return {}

    def score(self, metrics: dict[str, float]) -> float | None:
        return None

    def log(self) -> dict[str, float]:
        """Extra values for the epoch's row of the training log (e.g. a learned temperature)."""
        return {}


@dataclass
class ProgressEvent:
    """What the engine reports: ``kind`` is ``"start"``, ``"batch"`` or ``"epoch"`` (then ``metrics`` = the log row)."""

    kind: str
    epoch: int
    epochs: int
    step: int = 0
    steps: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class Checkpoint:
    """Everything needed to continue a run exactly: ``tensors`` (safetensors) and ``meta`` (JSON)."""

    tensors: dict[str, Tensor]
    meta: dict[str, Any]

    def files(self, folder: str = "checkpoint") -> dict[str, bytes]:
        """The checkpoint as files of a model folder (``checkpoint/state.safetensors`` + ``state.json``)."""
        from safetensors.torch import save

        return {
            f"{folder}/state.safetensors": save(self.tensors),
            f"{folder}/state.json": json.dumps(self.meta, indent=2).encode(),
        }

    @classmethod
    def read(cls, path: str | os.PathLike[str], folder: str = "checkpoint") -> Checkpoint:
        from pathlib import Path

        from safetensors.torch import load_file

        d = Path(path) / folder
        if not (d / "state.json").is_file() or not (d / "state.safetensors").is_file():
            raise ModelError(
                f"{path} has no resumable checkpoint ({folder}/): it was not interrupted, or was saved without "
                "one; train again without --resume"
            )
        try:
            meta = json.loads((d / "state.json").read_text())
            tensors = load_file(str(d / "state.safetensors"))
        except Exception as e:  # noqa: BLE001 - any unreadable checkpoint is the same user problem
            raise ModelError(f"{path}: the resumable checkpoint cannot be read ({type(e).__name__}: {e})") from None
        missing = [k for k in ("epoch", "step", "history", "optimizer", "scheduler", "engine") if k not in meta]
        if not isinstance(meta, dict) or missing:
            raise ModelError(f"{path}: the resumable checkpoint lacks {missing[:1] or 'its fields'}: train again")
        return cls(tensors, meta)


@dataclass
class FitResult:
    """What :meth:`Engine.fit` returns; the model's weights are the best epoch's (or the last)."""

    history: list[dict[str, Any]]
    best_epoch: int
    seconds: float
    samples: int
    interrupted: bool = False
    checkpoint: Checkpoint | None = None


@dataclass
class RunResult:
    """What every training command returns (:class:`~geoenc.training.TrainResult`,
    :class:`~geoenc.pretrain.PretrainResult`): the spec saved with the model, metrics, the per-epoch log, and
    whether (and where) the run was interrupted."""

    spec: ModelSpec
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    out_dir: Path | None = field(default=None, kw_only=True)
    interrupted: bool = field(default=False, kw_only=True)
    checkpoint: Checkpoint | None = field(default=None, kw_only=True)
    inputs: list[str] = field(default_factory=list, kw_only=True)

    @property
    def config(self) -> dict[str, Any]:
        """The ``config.json`` mapping."""
        return self.spec.to_dict()

    def save(self, path: str | os.PathLike[str], overwrite: bool = False, *, resume: bool = False) -> Path:
        """Write the model folder ``path`` (with the checkpoint when the run was interrupted)."""
        raise NotImplementedError


# -- interrupts ---------------------------------------------------------------------------------------------
class _StopFlag:
    """SIGINT/SIGTERM set a flag checked between batches; a second signal raises KeyboardInterrupt at once."""

    def __init__(self, defer: bool = True) -> None:
        self.requested = False
        self._defer = defer
        self._old: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _StopFlag:
        # Under torchrun a signal usually means a peer process died: a rank that kept going to the end of its
        # batch would wait in the next collective for the dead one, so there the signal ends the process as usual.
        if self._defer and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _dist_timeout() -> datetime.timedelta:
    """How long a collective waits for the other processes: GEOENC_DIST_TIMEOUT seconds, 30 minutes by default."""
    try:
        seconds = float(os.environ.get("GEOENC_DIST_TIMEOUT", "1800"))
    except ValueError:
        seconds = 1800.0
    return datetime.timedelta(seconds=seconds if seconds > 0 else 1800.0)


def _dist_info() -> tuple[int, int]:
    try:
        return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 0, 1


def _state(module: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().to("cpu").clone() for k, v in module.state_dict().items()}


def _optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if isinstance(v, Tensor):
                tensors[f"optimizer.{pid}.{k}"] = v.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(pid), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if key.startswith("optimizer."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = v
    for pid, sc in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(sc)
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def _crc(t: Tensor) -> int:
    return zlib.crc32(t.detach().cpu().contiguous().numpy().tobytes())


# -- the engine ---------------------------------------------------------------------------------------------------
class Engine:
    """Trains a :class:`Task` by :class:`EngineConfig`; see the module docstring for what it takes care of."""

    def __init__(self, cfg: EngineConfig, *, progress: Callable[[ProgressEvent], None] | None = None) -> None:
        self.cfg = cfg
        self.rank, self.world = _dist_info()
        self.device = resolve_device(cfg.device)
        if self.world > 1 and self.device.type == "cuda":
            local = int(os.environ.get("LOCAL_RANK", self.rank))
            self.device = torch.device("cuda", local % torch.cuda.device_count())
        self.seeds = Seeds(cfg.seed)
        self._progress = progress if self.rank == 0 else None
        self._stop: _StopFlag | None = None

    def _emit(self, event: ProgressEvent) -> None:
        """Report progress; a KeyboardInterrupt raised by the callback stops the run like Ctrl-C."""
        if self._progress is None:
            return
        try:
            self._progress(event)
        except KeyboardInterrupt:
            if self._stop is None:
                raise
            self._stop.requested = True

    # the task builds its model inside this block so initialisation is seeded without touching the caller's RNG
    def init_stream(self) -> contextlib.AbstractContextManager[None]:
        return self.seeds.global_stream("init", self.device)

    def fit(self, task: Task, *, resume: Checkpoint | None = None) -> FitResult:
        cfg, device = self.cfg, self.device
        n = task.n_train
        if self.world > 1 and n < self.world:
            raise InputError(f"{n} training points cannot be shared among {self.world} processes")
        per_rank = n // self.world if self.world > 1 else n
        bs = min(cfg.batch_size, per_rank) if cfg.drop_last else cfg.batch_size
        steps = max(1, per_rank // bs) if cfg.drop_last else max(1, math.ceil(per_rank / bs))
        opt, sched, per_batch = make_optimizer(task.parameters(), cfg, steps)
        dtype = amp_dtype(device, cfg.amp)
        scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None

        module: nn.Module = task.model
        own_group = False
        if self.world > 1:
            import torch.distributed as dist

            if not dist.is_initialized():
                dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=_dist_timeout())
                own_group = True
            module = nn.parallel.DistributedDataParallel(task.model)

        history: list[dict[str, Any]] = []
        best_score, best_epoch, bad_epochs = -math.inf, -1, 0
        best_state: dict[str, Tensor] | None = None
        start_epoch, start_step, samples = 0, 0, 0
        sums: dict[str, float] = {}  # the epoch's running sums, when resuming mid-epoch
        global_rng: tuple[Tensor, Tensor | None] | None = None
        batches_at_epoch: Tensor | None = None
        if resume is not None:
            (
                start_epoch,
                start_step,
                sums,
                samples,
                history,
                best_score,
                best_epoch,
                bad_epochs,
                best_state,
                global_rng,
                batches_at_epoch,
            ) = self._restore(task, opt, sched, scaler, resume)

        interrupted = False
        checkpoint: Checkpoint | None = None

        def save(epoch: int, step: int, batches: Tensor, acc: dict[str, Tensor], count: int) -> Checkpoint:
            """Everything to continue exactly from ``step`` of ``epoch`` (``batches``: that epoch's RNG state)."""
            best = (best_score, best_epoch, bad_epochs, best_state)
            return self._checkpoint(task, opt, sched, scaler, epoch, step, batches, acc, count, history, samples, best)

        t0 = time.perf_counter()
        self._emit(ProgressEvent("start", start_epoch, cfg.epochs, start_step, steps))
        with self.seeds.global_stream("train", device), _StopFlag(defer=self.world == 1) as stop:
            self._stop = stop
            if global_rng is not None:
                torch.set_rng_state(global_rng[0])
                if global_rng[1] is not None and device.type == "cuda":
                    torch.cuda.set_rng_state(global_rng[1], device)
            task.model.train()
            epoch = start_epoch
            while epoch < cfg.epochs:
                te = time.perf_counter()
                gen = self.seeds.generator("batches")
                if batches_at_epoch is not None:  # resuming inside this epoch: draw its permutation again
                    gen.set_state(batches_at_epoch)
                    batches_at_epoch = None
                at_epoch_start = gen.get_state()
                snapshot = (
                    self._snapshot(
                        task,
                        opt,
                        sched,
                        scaler,
                        at_epoch_start,
                        history,
                        samples,
                        (best_score, best_epoch, bad_epochs, best_state),
                        epoch,
                    )
                    if start_step == 0
                    else None
                )
                perm = torch.randperm(n, generator=gen)
                if self.world > 1:  # every rank takes the same number of batches, or DDP would wait forever
                    perm = perm[: per_rank * self.world][self.rank :: self.world]
                perm = perm.to(device)
                acc: dict[str, Tensor] = {}
                count = int(sums.pop("_count", 0)) if sums else 0
                for name, v in sums.items():
                    acc[name] = torch.tensor(v, dtype=torch.float64, device=device)
                sums = {}
                for step in range(start_step, steps):
                    idx = perm[step * bs : (step + 1) * bs]
                    if idx.numel() == 0:
                        break
                    ctx = torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()
                    with ctx:
                        loss, parts = task.step(module, idx, self.seeds)
                    opt.zero_grad(set_to_none=True)
                    if scaler is not None:
                        scaler.scale(loss).backward()  # type: ignore[no-untyped-call]  # torch: Tensor.backward unannotated
                        scaler.step(opt)
                        scaler.update()
                    else:
                        loss.backward()  # type: ignore[no-untyped-call]  # torch: Tensor.backward unannotated
                        opt.step()
                    if per_batch:
                        sched.step()
                    k = idx.numel()
                    for name, value in [("loss", loss), *parts.items()]:
                        term = value.detach().double() * k
                        acc[name] = acc[name] + term if name in acc else term
                    count += k
                    self._emit(ProgressEvent("batch", epoch, cfg.epochs, step + 1, steps))
                    last = step + 1 == steps
                    if (step + 1) % cfg.check_every == 0 or last or stop.requested:
                        self._check_finite(acc, epoch, step, snapshot)
                    if stop.requested and not last:
                        interrupted = True
                        checkpoint = save(epoch, step + 1, at_epoch_start, acc, count)
                        break
                start_step = 0
                if interrupted:
                    break
                samples += count
                row: dict[str, Any] = {"epoch": epoch + 1}
                row.update(
                    {
                        ("train_loss" if k == "loss" else f"train_loss_{k}"): float(v) / max(count, 1)
                        for k, v in acc.items()
                    }
                )
                row.update(task.log())
                row["lr"] = opt.param_groups[0]["lr"]
                if not per_batch:
                    sched.step()
                metrics = task.evaluate()
                row.update({f"val_{k}": v for k, v in metrics.items() if k != "n"})
                score = task.score(metrics) if metrics else None
                if score is not None and math.isfinite(score) and score > best_score:
                    best_score, best_epoch, bad_epochs = score, epoch + 1, 0
                    best_state = _state(task.model)
                elif score is not None:
                    bad_epochs += 1
                else:
                    best_epoch = epoch + 1
                row["seconds"] = round(time.perf_counter() - te, 4)
                history.append(row)
                epoch += 1
                self._emit(ProgressEvent("epoch", epoch, cfg.epochs, steps, steps, dict(row)))
                if stop.requested and epoch < cfg.epochs:
                    interrupted = True
                    checkpoint = save(epoch, 0, gen.get_state(), {}, 0)
                    break
                if score is not None and cfg.patience is not None and bad_epochs > cfg.patience:
                    break
        self._stop = None
        seconds = time.perf_counter() - t0
        if best_state is not None:
            task.model.load_state_dict(best_state)
        task.model.eval()
        if self.world > 1:
            import gc

            import torch.distributed as dist

            # drop the DistributedDataParallel wrapper while every process is still here: its reducer holds the
            # process group, and freeing that group after a peer has exited waits forever for the peer
            module = task.model
            gc.collect()
            if dist.is_initialized():
                dist.barrier()
                if own_group:
                    dist.destroy_process_group()
        return FitResult(history, best_epoch, seconds, samples * self.world, interrupted, checkpoint)

    # -- divergence -------------------------------------------------------------------------------------
    def _check_finite(self, acc: dict[str, Tensor], epoch: int, step: int, snapshot: Checkpoint | None) -> None:
        if all(bool(torch.isfinite(v)) for v in acc.values()):
            return
        raise DivergedError(
            f"the training loss became NaN or infinite in epoch {epoch + 1} (by batch {step + 1}): lower --lr "
            f"(now {self.cfg.lr:g}) or check the data for extreme values",
            snapshot,
        )

    # -- checkpoints --------------------------------------------------------------------------------------
    def _checkpoint(
        self,
        task: Task,
        opt: torch.optim.Optimizer,
        sched: Any,
        scaler: Any,
        epoch: int,
        step: int,
        batches_at_epoch: Tensor,
        acc: dict[str, Tensor],
        count: int,
        history: list[dict[str, Any]],
        samples: int,
        best: tuple[float, int, int, dict[str, Tensor] | None],
    ) -> Checkpoint:
        best_score, best_epoch, bad_epochs, best_state = best
        tensors = {f"model.{k}": v.contiguous() for k, v in _state(task.model).items()}
        if best_state is not None:
            tensors.update({f"best.{k}": v.contiguous() for k, v in best_state.items()})
        opt_t, opt_meta = _optimizer_tensors(opt)
        tensors.update(opt_t)
        tensors.update({f"rng.{k}": v for k, v in self.seeds.state().items()})
        tensors["rng_epoch.batches"] = batches_at_epoch
        tensors["rng_global"] = torch.get_rng_state()
        if self.device.type == "cuda":
            tensors["rng_global_cuda"] = torch.cuda.get_rng_state(self.device)
        meta = {
            "epoch": epoch,
            "step": step,
            "sums": {**{k: float(v) for k, v in acc.items()}, "_count": count},
            "samples": samples,
            "history": history,
            "best_score": best_score if math.isfinite(best_score) else None,
            "best_epoch": best_epoch,
            "bad_epochs": bad_epochs,
            "optimizer": opt_meta,
            "scheduler": sched.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "engine": asdict(self.cfg),
        }
        return Checkpoint(tensors, json.loads(json.dumps(meta, default=float)))

    def _snapshot(
        self,
        task: Task,
        opt: torch.optim.Optimizer,
        sched: Any,
        scaler: Any,
        at_epoch_start: Tensor,
        history: list[dict[str, Any]],
        samples: int,
        best: tuple[float, int, int, dict[str, Tensor] | None],
        epoch: int,
    ) -> Checkpoint:
        """The state at the start of an epoch: what a diverged run keeps."""
        return self._checkpoint(task, opt, sched, scaler, epoch, 0, at_epoch_start, {}, 0, list(history), samples, best)

    def _restore(
        self, task: Task, opt: torch.optim.Optimizer, sched: Any, scaler: Any, ck: Checkpoint
    ) -> tuple[
        int,
        int,
        dict[str, float],
        int,
        list[dict[str, Any]],
        float,
        int,
        int,
        dict[str, Tensor] | None,
        tuple[Tensor, Tensor | None] | None,
        Tensor | None,
    ]:
        """The loop's state saved in ``ck``: epoch, step, sums, samples, history, best score/epoch, bad epochs,
        best weights, the global RNG states and the epoch's batch order; the model, optimiser, scheduler, scaler
        and seeds are restored in place."""
        t, m = ck.tensors, ck.meta
        try:
            task.model.load_state_dict({k[len("model.") :]: v for k, v in t.items() if k.startswith("model.")})
            _load_optimizer(opt, t, m["optimizer"])
            sched.load_state_dict(m["scheduler"])
            if scaler is not None and m.get("scaler"):
                scaler.load_state_dict(m["scaler"])
        except (RuntimeError, KeyError, ValueError) as e:
            raise ModelError(
                f"the resumable checkpoint does not fit this run ({type(e).__name__}: "
                f"{str(e).splitlines()[0][:200]}): resume with the same data and settings"
            ) from None
        self.seeds.load({k[len("rng.") :]: v for k, v in t.items() if k.startswith("rng.")})
        best = {k[len("best.") :]: v for k, v in t.items() if k.startswith("best.")}
        best_score = m["best_score"] if m.get("best_score") is not None else -math.inf
        return (
            int(m["epoch"]),
            int(m["step"]),
            dict(m.get("sums") or {}),
            int(m.get("samples", 0)),
            list(m["history"]),
            float(best_score),
            int(m["best_epoch"]),
            int(m["bad_epochs"]),
            best or None,
            (t["rng_global"], t.get("rng_global_cuda")) if "rng_global" in t else None,
            t.get("rng_epoch.batches"),
        )

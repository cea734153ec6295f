"""Training configuration: typed defaults in one dataclass, readable from and writable to YAML."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoenc.errors import InputError, ParameterError, UnknownNameError, did_you_mean

LOSSES = {
    "classification": ("ce", "an_full", "bce"),
    "multilabel": ("bce",),
    "regression": ("mse", "l1"),
}
DEFAULT_LOSS = {"classification": "ce", "multilabel": "bce", "regression": "mse"}
SCHEDULES = ("exp", "cosine", "constant")
DEVICES = ("auto", "cpu", "cuda")
AMP = ("auto", "bf16", "fp16", "off")


@dataclass
class TrainConfig:
    """Everything that decides a training run (the data files aside).

    ``method``/``method_params`` pick the position encoder, ``net``/``net_params`` the net (``None`` → the
    encoder's default net). ``task=None`` infers classification or regression from the label column.
    ``loss=None`` → ``ce`` (classification), ``bce`` (multi-label), ``mse`` (regression).
    """

    label: str | None = None
    method: str = "sphereM"
    method_params: dict[str, Any] = field(default_factory=dict)
    net: str | None = None
    net_params: dict[str, Any] = field(default_factory=dict)
    task: str | None = None
    loss: str | None = None
    features: str | None = None
    feature_hidden: int = 256
    epochs: int = 30
    batch_size: int = 1024
    lr: float = 1e-3
    weight_decay: float = 1e-4
    lr_schedule: str = "exp"
    lr_decay: float = 0.98
    patience: int = 10
    val_fraction: float = 0.0
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    cache_encoding: bool = True
    #: a model directory from `geoenc pretrain` (or `geoenc train`) whose location encoder starts this one
    init: str | None = None
    #: keep the initialised location encoder fixed (train only the head: a linear probe)
    freeze_encoder: bool = False
    #: train on a seeded, class-stratified fraction of the training labels (CSP's few-shot protocol)
    train_fraction: float = 1.0

    def validate(self) -> TrainConfig:
        if not (0 < float(self.train_fraction) <= 1):
            raise ParameterError(f"--train-fraction must be in (0, 1], got {self.train_fraction}")
        if self.freeze_encoder and not self.init:
            raise ParameterError("--freeze-encoder needs --init PRETRAINED_DIR (a random encoder would stay random)")
        if self.task is not None and self.task not in LOSSES:
            raise ParameterError(f"task {self.task!r} is not valid: choose one of {', '.join(LOSSES)}")
        all_losses = sorted({x for v in LOSSES.values() for x in v})
        if self.loss is not None and self.loss not in all_losses:
            raise UnknownNameError(
                f"unknown loss {self.loss!r}{did_you_mean(self.loss, all_losses)}; "
                f"known losses: {', '.join(all_losses)}"
            )
        if self.task is not None and self.loss is not None and self.loss not in LOSSES[self.task]:
            raise ParameterError(
                f"loss {self.loss!r} does not fit task {self.task!r}: use one of {', '.join(LOSSES[self.task])}"
            )
        if self.loss == "an_full" and self.features:
            raise ParameterError("loss an_full samples random locations without features: drop --features or use ce")
        for name, lo in (("epochs", 1), ("batch_size", 1), ("feature_hidden", 1), ("patience", 0)):
            v = getattr(self, name)
            if not isinstance(v, int) or v < lo:
                raise ParameterError(f"{name}={v!r} must be an integer >= {lo}")
        if not (self.lr > 0):
            raise ParameterError(f"lr={self.lr!r} must be > 0")
        if not (self.weight_decay >= 0):
            raise ParameterError(f"weight_decay={self.weight_decay!r} must be >= 0")
        if not (0 < self.lr_decay <= 1):
            raise ParameterError(f"lr_decay={self.lr_decay!r} must be in (0, 1]")
        if not (0 <= self.val_fraction < 1):
            raise ParameterError(f"val_fraction={self.val_fraction!r} must be in [0, 1)")
        for name, choices in (("lr_schedule", SCHEDULES), ("device", DEVICES), ("amp", AMP)):
            if getattr(self, name) not in choices:
                raise ParameterError(f"{name}={getattr(self, name)!r} is not valid: choose one of {', '.join(choices)}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = [k for k in data if k.replace("-", "_") not in names]
        if unknown:
            k = unknown[0]
            raise ParameterError(
                f"unknown training setting {k!r}{did_you_mean(k, sorted(names))}; "
                f"known settings: {', '.join(sorted(names))}"
            )
        return cls(**{k.replace("-", "_"): v for k, v in data.items()})

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise InputError(f"cannot read config {path}: {e}") from None
        if not isinstance(data, dict):
            raise InputError(f"config {path} must be a YAML mapping of training settings")
        return cls.from_dict(data)

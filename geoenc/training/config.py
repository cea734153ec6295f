"""Training configuration: typed defaults in one dataclass, readable from and writable to YAML."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoenc.defaults import (
    TRAIN_BATCH_SIZE,
    TRAIN_EPOCHS,
    TRAIN_LR,
    TRAIN_LR_SCHEDULE,
    TRAIN_METHOD,
    TRAIN_WEIGHT_DECAY,
)
from geoenc.errors import InputError, ParameterError, UnknownNameError, did_you_mean
from geoenc.params import check_number

LOSSES = {
    "classification": ("ce", "an_full", "bce"),
    "multilabel": ("bce",),
    "regression": ("mse", "l1"),
}
DEFAULT_LOSS = {"classification": "ce", "multilabel": "bce", "regression": "mse"}
SCHEDULES = ("exp", "cosine", "constant")
_OPT_STR = (str, type(None))
#: the type each non-numeric setting must have (checked before anything is built from it)
_TYPES: dict[str, tuple[type, ...]] = {
    "label": _OPT_STR,
    "method": (str,),
    "method_params": (dict,),
    "net": _OPT_STR,
    "net_params": (dict,),
    "task": _OPT_STR,
    "loss": _OPT_STR,
    "features": _OPT_STR,
    "lr_schedule": (str,),
    "device": (str,),
    "amp": (str,),
    "cache_encoding": (bool,),
    "init": _OPT_STR,
    "freeze_encoder": (bool,),
}


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class TrainConfig:
    """Everything that decides a training run (the data files aside).

    ``method``/``method_params`` pick the position encoder, ``net``/``net_params`` the net (``None`` → the
    encoder's default net). The defaults (``sh`` + ``siren``, 60 epochs, batch 256, lr 1e-3, cosine) are
    :mod:`geoenc.defaults`' ``TRAIN_*``, chosen in docs/models.md. ``task=None`` infers classification or
    regression from the label column.
    ``loss=None`` → ``ce`` (classification), ``bce`` (multi-label), ``mse`` (regression).
    """

    label: str | None = None
    method: str = TRAIN_METHOD
    method_params: dict[str, Any] = field(default_factory=dict)
    net: str | None = None
    net_params: dict[str, Any] = field(default_factory=dict)
    task: str | None = None
    loss: str | None = None
    features: str | None = None
    feature_hidden: int = 256
    epochs: int = TRAIN_EPOCHS
    batch_size: int = TRAIN_BATCH_SIZE
    lr: float = TRAIN_LR
    weight_decay: float = TRAIN_WEIGHT_DECAY
    lr_schedule: str = TRAIN_LR_SCHEDULE
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
        """Check every setting (names against the registries, numbers finite and in range); return self.

        Raises a one-line :class:`~geoenc.errors.UsageError` subclass before any data is read.
        """
        from geoenc.device import parse_amp, parse_device
        from geoenc.encoders import get_encoder_class, resolve_params
        from geoenc.nets import get_net_class, resolve_net_params

        for name, types in _TYPES.items():
            value = getattr(self, name)
            if not isinstance(value, types):
                want = " or ".join("null" if t is type(None) else t.__name__ for t in types)
                raise ParameterError(f"{name}={_short(value)} must be a {want}")
        self.method = get_encoder_class(self.method).name
        self.method_params = resolve_params(self.method, self.method_params)
        if self.net is not None:
            self.net = get_net_class(self.net).name
            self.net_params = resolve_net_params(self.net, self.net_params)
        else:
            net = get_encoder_class(self.method).default_net
            resolve_net_params(net, self.net_params)
        self.device = parse_device(self.device)
        self.amp = parse_amp(self.amp)
        if self.task is not None and self.task not in LOSSES:
            raise ParameterError(f"task {self.task!r} is not valid: choose one of {', '.join(LOSSES)}")
        all_losses = sorted({x for v in LOSSES.values() for x in v})
        if self.loss is not None and self.loss not in all_losses:
            raise UnknownNameError(
                f"unknown loss {self.loss!r}{did_you_mean(str(self.loss), all_losses)}; "
                f"known losses: {', '.join(all_losses)}"
            )
        if self.task is not None and self.loss is not None and self.loss not in LOSSES[self.task]:
            raise ParameterError(
                f"loss {self.loss!r} does not fit task {self.task!r}: use one of {', '.join(LOSSES[self.task])}"
            )
        if self.loss == "an_full" and self.features:
            raise ParameterError("loss an_full samples random locations without features: drop --features or use ce")
        for name, lo, hi in (
            ("epochs", 1, 1_000_000),
            ("batch_size", 1, 1 << 24),
            ("feature_hidden", 1, 65_536),
            ("patience", 0, 1_000_000),
            ("seed", 0, 2**63 - 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ParameterError(f"{name}={v!r} must be an integer in [{lo}, {hi:,}]")
        check_number(self, "lr", lo=0.0, lo_open=True, hi=1e3)
        check_number(self, "weight_decay", lo=0.0, hi=1e3)
        check_number(self, "lr_decay", lo=0.0, lo_open=True, hi=1.0)
        check_number(self, "val_fraction", lo=0.0, hi=1.0, hi_open=True)
        check_number(self, "train_fraction", lo=0.0, lo_open=True, hi=1.0)
        if self.freeze_encoder and not self.init:
            raise ParameterError("--freeze-encoder needs --init PRETRAINED_DIR (a random encoder would stay random)")
        if self.lr_schedule not in SCHEDULES:
            raise ParameterError(f"lr_schedule={self.lr_schedule!r} is not valid: choose one of {', '.join(SCHEDULES)}")
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

        text: str = yaml.safe_dump(self.to_dict(), sort_keys=False)
        return text

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        return cls.from_dict(read_yaml_settings(path))


def read_yaml_settings(path: str | Path) -> dict[str, Any]:
    """The settings a YAML file gives (keys checked against :class:`TrainConfig`; values checked later).

    Safe loading only (no tags that build objects); aliases are refused (an alias "bomb" could expand a
    small file into gigabytes) and the file may be at most 1 MB.
    """
    import yaml

    class Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML is untyped here (no types-PyYAML): Any
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise InputError(f"config {path}: YAML aliases (*name) are not supported: write the values out")
            return super().compose_node(parent, index)

    p = Path(path)
    try:
        if p.stat().st_size > 1 << 20:
            raise InputError(f"config {path} is over 1 MB: not a file of training settings")
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=Loader) or {}  # Loader is a SafeLoader subclass
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise InputError(f"cannot read config {path}: {' '.join(str(e).split())[:200]}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise InputError(f"config {path} must be a YAML mapping of training settings (name: value)")
    TrainConfig.from_dict(data)  # unknown names fail here, with a "did you mean"
    return {k.replace("-", "_"): v for k, v in data.items()}


def resolve_config(
    flags: dict[str, Any],
    *,
    config_file: str | Path | None = None,
    resume: str | Path | None = None,
    init: str | Path | None = None,
) -> TrainConfig:
    """The settings of a run from its sources, later ones winning: a resumed run's saved settings, then a YAML
    file, then the encoder and net of an ``init`` folder, then ``flags`` (None values are "not given").

    ``flags`` uses :class:`TrainConfig` names; ``method_params``/``net_params`` given there are merged into
    the ones from earlier sources (so ``--init DIR -p key=value`` changes one parameter of the pretrained
    encoder). With ``init``, the pretrained encoder and net are used unless ``flags`` name others, and their
    parameters only when the same encoder/net is used. Returns the validated config.
    """
    settings: dict[str, Any] = {}
    if resume is not None:
        from geoenc.training.engine import Checkpoint

        settings.update(Checkpoint.read(resume).meta.get("train_config", {}))
    if config_file is not None:
        settings.update(read_yaml_settings(config_file))
    given = {k: v for k, v in flags.items() if v is not None}
    if init is not None:
        from geoenc.encoders import get_encoder_class
        from geoenc.models.transfer import encoder_settings

        pre = encoder_settings(init)
        method = given.get("method")
        if method is None or get_encoder_class(method).name == get_encoder_class(pre["method"]).name:
            settings.update(method=pre["method"], method_params=pre["method_params"])
        net = given.get("net")
        if net is None or str(net).strip().lower() == str(pre["net"]).lower():
            settings.update(net=pre["net"], net_params=pre["net_params"])
        settings["init"] = str(init)
    for key in ("method_params", "net_params"):
        if key in given:
            given[key] = {**settings.get(key, {}), **given[key]}
    settings.update(given)
    return TrainConfig.from_dict(settings).validate()

"""The typed description of a location model: what ``config.json`` of a model folder holds.

:class:`ModelSpec` replaces dict literals in the code that writes model folders (training, pre-training,
importers of pretrained weights) and is the one place that checks a ``config.json`` read from disk: every
field's type, its size bounds, and its consistency with the others, before anything is built from it. A
file that fails gets a one-line :class:`~geoenc.errors.ModelError` naming the field (not an internal error).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

from geoenc.errors import ModelError

#: newest ``format_version`` this geoenc reads and the one it writes
FORMAT_VERSION = 1
TASKS = ("classification", "multilabel", "regression", "embedding")
#: ``kind`` of a folder: a trained location model, or a head-less location encoder (pre-trained or imported)
KINDS = ("location_model", "pretrained_encoder")
#: bounds on sizes a config.json may ask for (a changed number must not make geoenc allocate gigabytes)
MAX_OUTPUTS = 1_000_000
MAX_FEATURE_DIM = 1_000_000
MAX_HIDDEN = 65_536
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass
class Component:
    """A registered encoder or net: its name and resolved parameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class FeatureSpec:
    """The extra per-point feature column a model was trained with (fusion inside the model)."""

    column: str
    dim: int
    hidden: int = 256


@dataclass
class ModelSpec:
    """Everything needed to rebuild a location model, plus what it was trained on.

    ``extra`` keeps sections written by other parts of geoenc (``pretrain``: the contrastive objective and
    feature statistics; ``source``: where imported pretrained weights came from) and unknown keys written
    by a newer geoenc of the same format version, so they survive a read–write round trip.
    """

    encoder: Component
    net: Component
    task: str
    n_outputs: int
    embedding_dim: int
    kind: str = "location_model"
    loss: str | None = None
    classes: list[str] | None = None
    label: str | None = None
    target_stats: dict[str, float] | None = None
    features: FeatureSpec | None = None
    seed: int = 0
    n_train: int = 0
    n_val: int = 0
    init: str | None = None
    freeze_encoder: bool = False
    train_fraction: float = 1.0
    format_version: int = FORMAT_VERSION
    geoenc_version: str | None = None
    torch_version: str | None = None
    weights_sha256: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- JSON ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The ``config.json`` mapping (``extra`` sections at the top level, as they were read)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        out["encoder"] = dataclasses.asdict(self.encoder)
        out["net"] = dataclasses.asdict(self.net)
        out["features"] = dataclasses.asdict(self.features) if self.features else None
        head = {k: out.pop(k) for k in ("format_version", "geoenc_version", "torch_version", "kind")}
        sha = out.pop("weights_sha256")
        return {**head, **out, **self.extra, "weights_sha256": sha}

    @classmethod
    def from_dict(cls, cfg: Any, where: str = "config.json") -> ModelSpec:
        """Check a ``config.json`` mapping field by field; raise a one-line ModelError on the first problem."""
        c = _Checker(where)
        if not isinstance(cfg, dict):
            raise ModelError(f"{where} is not a JSON object")
        version = c.integer(cfg, "format_version", 0, None)
        if version > FORMAT_VERSION:
            raise ModelError(
                f"{where} has format_version {version}, newer than this geoenc supports ({FORMAT_VERSION}): "
                "upgrade geoenc"
            )
        kind = cfg.get("kind") or "location_model"
        if kind == "autoencoder":
            raise ModelError(
                f"{where} describes an image autoencoder from `geoenc autoencode`: use it with "
                "`geoenc encode --model DIR --raster RASTER` or `geoenc map DIR --raster RASTER`"
            )
        if kind not in KINDS:
            raise ModelError(f"{where}: kind {kind!r} is not a location model ({', '.join(KINDS)})")
        task = c.choice(cfg, "task", TASKS)
        n_outputs = c.integer(cfg, "n_outputs", 0, MAX_OUTPUTS)
        classes = c.optional(cfg, "classes", list)
        if classes is not None:
            if not all(isinstance(x, str) for x in classes):
                raise ModelError(f"{where}: classes must be a list of strings")
            if task in ("classification", "multilabel") and len(classes) != n_outputs:
                raise ModelError(f"{where}: {len(classes)} classes but n_outputs is {n_outputs}")
        if task in ("classification", "multilabel") and classes is None:
            raise ModelError(f"{where}: a {task} model needs its list of classes")
        stats = c.optional(cfg, "target_stats", dict)
        if task == "regression":
            if stats is None:
                raise ModelError(f"{where}: a regression model needs target_stats (mean, std)")
            for key in ("mean", "std"):
                v = stats.get(key)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise ModelError(f"{where}: target_stats.{key} must be a finite number, got {v!r}")
            if stats["std"] <= 0:
                raise ModelError(f"{where}: target_stats.std must be positive, got {stats['std']!r}")
        feats = c.optional(cfg, "features", dict)
        feature = None
        if feats is not None:
            feature = FeatureSpec(
                column=c.string(feats, "column"),
                dim=c.integer(feats, "dim", 1, MAX_FEATURE_DIM, prefix="features."),
                hidden=c.integer(feats, "hidden", 1, MAX_HIDDEN, prefix="features.") if "hidden" in feats else 256,
            )
        sha = cfg.get("weights_sha256")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise ModelError(f"{where}: weights_sha256 must be the 64-digit SHA-256 of the weights file, got {sha!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(
            encoder=c.component(cfg, "encoder"),
            net=c.component(cfg, "net"),
            task=task,
            n_outputs=n_outputs,
            embedding_dim=c.integer(cfg, "embedding_dim", 0, None) if "embedding_dim" in cfg else 0,
            kind=kind,
            loss=c.optional(cfg, "loss", str),
            classes=classes,
            label=c.optional(cfg, "label", str),
            target_stats={"mean": float(stats["mean"]), "std": float(stats["std"])} if stats else None,
            features=feature,
            seed=c.integer(cfg, "seed", 0, None) if cfg.get("seed") is not None else 0,
            n_train=c.integer(cfg, "n_train", 0, None) if cfg.get("n_train") is not None else 0,
            n_val=c.integer(cfg, "n_val", 0, None) if cfg.get("n_val") is not None else 0,
            init=c.optional(cfg, "init", str),
            freeze_encoder=bool(cfg.get("freeze_encoder", False)),
            train_fraction=float(cfg.get("train_fraction") or 1.0),
            format_version=version,
            geoenc_version=c.optional(cfg, "geoenc_version", str),
            torch_version=c.optional(cfg, "torch_version", str),
            weights_sha256=sha,
            extra={k: v for k, v in cfg.items() if k not in known},
        )

    # -- descriptive -----------------------------------------------------------------------------------
    @property
    def feature_column(self) -> str | None:
        return self.features.column if self.features else None

    def section(self, name: str) -> dict[str, Any]:
        """An ``extra`` section such as ``pretrain`` or ``source`` ({} when absent)."""
        value = self.extra.get(name)
        return value if isinstance(value, dict) else {}


class _Checker:
    """Small typed getters that name the file and the field in every message."""

    def __init__(self, where: str) -> None:
        self.where = where

    def _fail(self, key: str, want: str, value: Any) -> ModelError:
        return ModelError(f"{self.where}: {key} must be {want}, got {value!r}"[:300])

    def integer(self, d: dict[str, Any], key: str, lo: int, hi: int | None, prefix: str = "") -> int:
        v = d.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            rng = f"an integer >= {lo}" if hi is None else f"an integer in [{lo}, {hi:,}]"
            raise self._fail(prefix + key, rng, v)
        return v

    def string(self, d: dict[str, Any], key: str) -> str:
        v = d.get(key)
        if not isinstance(v, str) or not v:
            raise self._fail(key, "a non-empty string", v)
        return v

    def choice(self, d: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
        v = d.get(key)
        if v not in choices:
            raise self._fail(key, f"one of {', '.join(choices)}", v)
        return str(v)

    def optional(self, d: dict[str, Any], key: str, typ: type) -> Any:
        v = d.get(key)
        if v is not None and not isinstance(v, typ):
            raise self._fail(key, f"a {typ.__name__} or null", v)
        return v

    def component(self, d: dict[str, Any], key: str) -> Component:
        v = d.get(key)
        if not isinstance(v, dict):
            raise self._fail(key, "an object with name and params", v)
        params = v.get("params", {})
        if not isinstance(params, dict):
            raise self._fail(f"{key}.params", "an object", params)
        return Component(self.string(v, "name"), dict(params))

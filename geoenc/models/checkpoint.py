"""Model directories: ``model.safetensors`` + ``config.json`` (+ ``metrics.json``, ``train_log.csv``, ``config.yaml``).

Loading never unpickles: weights come from safetensors, everything else from JSON. The SHA-256 of the
weights file is recorded in ``config.json`` and checked on load, so a replaced or tampered weights file
is refused rather than silently used.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from geoenc.errors import GeoencError, ModelError, OutputError

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
METRICS = "metrics.json"
TRAIN_LOG = "train_log.csv"
CONFIG_YAML = "config.yaml"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def state_tensors(module: nn.Module) -> dict[str, Tensor]:
    """The module's state dict as contiguous CPU tensors (what safetensors stores)."""
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=True)


def prepare_output_dir(path: str | os.PathLike, overwrite: bool) -> Path:
    """Check that a model directory may be written; raise OutputError otherwise."""
    out = Path(path)
    if out.exists() and not overwrite:
        raise OutputError(f"output {out} already exists: pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise OutputError(f"output {out} exists and is not a directory: choose another path")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"cannot write {out}: folder {parent} does not exist")
    return out


def write_model_dir(
    path: str | os.PathLike,
    model: nn.Module,
    config: dict[str, Any],
    *,
    metrics: dict[str, Any] | None = None,
    log_rows: list[dict[str, Any]] | None = None,
    resolved_yaml: str | None = None,
    extra_files: dict[str, bytes] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a model directory atomically: everything goes to a temporary sibling, then one rename.

    ``config`` gets ``format_version``, versions and ``weights_sha256`` added. ``extra_files`` maps
    relative paths (e.g. ``checkpoint/state.json``) to bytes.
    """
    from safetensors.torch import save_file

    import geoenc

    out = prepare_output_dir(path, overwrite)
    parent = out.parent if str(out.parent) else Path(".")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        # one metadata key only: safetensors writes a dict's keys in no fixed order, and the file's hash must
        # be the same for the same weights (deterministic runs give byte-identical model directories)
        save_file(state_tensors(model), str(tmp / WEIGHTS), metadata={"format": "pt"})
        cfg = {
            "format_version": FORMAT_VERSION,
            "geoenc_version": geoenc.__version__,
            "torch_version": torch.__version__,
            **config,
            "weights_sha256": sha256_file(tmp / WEIGHTS),
        }
        (tmp / CONFIG).write_text(dumps(cfg) + "\n")
        (tmp / METRICS).write_text(dumps(metrics or {}) + "\n")
        rows = log_rows or []
        buf = io.StringIO()
        if rows:
            fields: list[str] = []
            for r in rows:
                fields += [k for k in r if k not in fields]
            w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        (tmp / TRAIN_LOG).write_text(buf.getvalue())
        if resolved_yaml is not None:
            (tmp / CONFIG_YAML).write_text(resolved_yaml)
        for rel, data in (extra_files or {}).items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        trash = None
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            os.replace(out, trash / "old")
        os.replace(tmp, out)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a model directory's ``config.json`` (format version, required keys)."""
    d = Path(path)
    if not d.is_dir():
        raise ModelError(f"model {d} is not a directory: pass the folder written by `geoenc train -o`")
    cfg_path = d / CONFIG
    if not cfg_path.is_file():
        raise ModelError(f"model {d} has no {CONFIG}: pass the folder written by `geoenc train -o`")
    try:
        cfg = json.loads(cfg_path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"model {d}: {CONFIG} is not valid JSON ({e})") from None
    if not isinstance(cfg, dict):
        raise ModelError(f"model {d}: {CONFIG} is not a JSON object")
    version = cfg.get("format_version")
    if not isinstance(version, int):
        raise ModelError(f"model {d}: {CONFIG} has no integer format_version")
    if version > FORMAT_VERSION:
        raise ModelError(
            f"model {d} has format_version {version}, newer than this geoenc supports ({FORMAT_VERSION}): "
            "upgrade geoenc"
        )
    if cfg.get("kind") == "autoencoder":
        raise ModelError(
            f"model {d} is an image autoencoder from `geoenc autoencode`: use it with "
            "`geoenc encode --model DIR --raster RASTER` or `geoenc map DIR --raster RASTER`"
        )
    for key in ("encoder", "net", "task", "n_outputs", "weights_sha256"):
        if key not in cfg:
            raise ModelError(f"model {d}: {CONFIG} lacks {key!r}; the folder is damaged, retrain the model")
    return cfg


def _adopt_tensor(model: nn.Module, key: str, value: Tensor) -> None:
    """Make room for a fitted encoder's state (e.g. anchors created by ``fit``) before strict loading."""
    modname, _, attr = key.rpartition(".")
    try:
        mod = model.get_submodule(modname)
    except AttributeError:
        return
    if attr in mod._parameters:
        mod._parameters[attr] = nn.Parameter(
            torch.empty_like(value), requires_grad=mod._parameters[attr] is None or mod._parameters[attr].requires_grad
        )
        return
    if attr in mod._buffers:
        mod._buffers[attr] = torch.empty_like(value)
        return
    if hasattr(mod, attr):
        try:
            delattr(mod, attr)
        except AttributeError:
            return
    mod.register_buffer(attr, torch.empty_like(value))


def load_weights(model: nn.Module, path: Path, expected_sha: str | None) -> None:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelError(f"model {path.parent} has no {path.name}: the folder is incomplete, retrain the model")
    if expected_sha is not None and sha256_file(path) != expected_sha:
        raise ModelError(
            f"model {path.parent}: {path.name} does not match the checksum in {CONFIG} "
            "(modified or from another model): retrain or restore the folder"
        )
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelError(f"model {path.parent}: {path.name} is not a readable safetensors file ({e})") from None
    own = model.state_dict()
    for key, value in tensors.items():
        if key.startswith("location.position.") and (key not in own or own[key].shape != value.shape):
            _adopt_tensor(model, key, value)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        detail = " ".join(x.strip() for x in first[1:3]) if len(first) > 1 else first[0]
        raise ModelError(f"model {path.parent}: weights do not fit the configured model ({detail[:300]})") from None


class LoadedModel:
    """A trained location model read from a model directory.

    ``embed`` gives the location embedding (the net's output before the head); ``predict`` gives class
    probabilities ``(N, C)`` (softmax for the ``ce`` loss, per-class sigmoid scores for ``an_full``/``bce``)
    or regression values ``(N,)`` in the target's original units. Both accept a tensor or array of
    ``(N, 2)`` lon/lat degrees, run in batches without gradients, and return tensors on the input's device
    (CPU for numpy input).
    """

    def __init__(self, model: nn.Module, config: dict[str, Any], path: Path | None = None) -> None:
        self.model = model.eval()
        self.config = config
        self.path = path
        first = next(iter(model.parameters()), None)
        if first is None:
            first = next(iter(model.buffers()), None)
        self.device = first.device if first is not None else torch.device("cpu")

    # -- descriptive ----------------------------------------------------------------------------
    @property
    def task(self) -> str:
        return self.config["task"]

    @property
    def classes(self) -> list[str] | None:
        return self.config.get("classes")

    @property
    def encoder_name(self) -> str:
        return self.config["encoder"]["name"]

    @property
    def encoder_params(self) -> dict[str, Any]:
        return dict(self.config["encoder"].get("params", {}))

    @property
    def net_name(self) -> str:
        return self.config["net"]["name"]

    @property
    def loss(self) -> str:
        return self.config.get("loss", "ce")

    @property
    def label(self) -> str | None:
        return self.config.get("label")

    @property
    def feature_column(self) -> str | None:
        feats = self.config.get("features")
        return feats.get("column") if feats else None

    @property
    def embedding_dim(self) -> int:
        return int(self.model.embedding_dim)

    @property
    def model_hash(self) -> str:
        return self.config["weights_sha256"]

    def to(self, device: str | torch.device) -> LoadedModel:
        self.device = torch.device(device)
        self.model.to(self.device)
        return self

    # -- inference ------------------------------------------------------------------------------
    def _input(self, lonlat: Any) -> tuple[Tensor, torch.device]:
        t = lonlat if isinstance(lonlat, Tensor) else torch.as_tensor(np.asarray(lonlat, dtype=np.float64))
        if t.ndim != 2 or t.shape[-1] != 2:
            raise ModelError(f"expected (N, 2) lon/lat degrees, got shape {tuple(t.shape)}")
        return t, t.device

    def _batches(self, fn, lonlat: Any, features: Any = None, batch_size: int = 65536) -> Tensor:
        t, out_device = self._input(lonlat)
        f = None
        if features is not None:
            f = features if isinstance(features, Tensor) else torch.as_tensor(np.asarray(features, dtype=np.float32))
        outs = []
        with torch.inference_mode():
            for i in range(0, max(t.shape[0], 1), batch_size):
                xb = t[i : i + batch_size].to(self.device, torch.float32)
                fb = f[i : i + batch_size].to(self.device, torch.float32) if f is not None else None
                outs.append(fn(xb, fb).float())
        return torch.cat(outs).to(out_device)

    def embed(self, lonlat: Any, batch_size: int = 65536) -> Tensor:
        """``(N, 2)`` lon/lat degrees → ``(N, embedding_dim)`` float32 location embeddings."""
        return self._batches(lambda x, f: self.model.location(x), lonlat, None, batch_size)

    def predict(self, lonlat: Any, features: Any = None, batch_size: int = 65536) -> Tensor:
        """Class probabilities ``(N, C)`` or regression values ``(N,)``."""
        if self.task == "embedding":
            raise ModelError(
                f"model {self.path or ''} has no prediction head (task 'embedding'): use embed, "
                "or fine-tune it on labels first"
            )
        if self.model.features is not None and features is None:
            raise ModelError(f"model needs the feature column {self.feature_column!r} (it was trained with --features)")
        if self.model.features is None:
            features = None

        def run(x: Tensor, f: Tensor | None) -> Tensor:
            out = self.model.scores(self.model(x, f), self.loss)
            if self.task == "regression":
                stats = self.config.get("target_stats") or {"mean": 0.0, "std": 1.0}
                out = out * float(stats["std"]) + float(stats["mean"])
            return out

        return self._batches(run, lonlat, features, batch_size)


def build_from_config(cfg: dict[str, Any]) -> nn.Module:
    from geoenc.models.location import build_model

    feats = cfg.get("features") or None
    try:
        return build_model(
            cfg["encoder"]["name"],
            cfg["encoder"].get("params", {}),
            cfg["net"]["name"],
            cfg["net"].get("params", {}),
            cfg["task"],
            int(cfg["n_outputs"]),
            feature_dim=int(feats["dim"]) if feats else None,
            feature_hidden=int(feats.get("hidden", 256)) if feats else 256,
        )
    except GeoencError as e:
        raise ModelError(f"model config cannot be built with this geoenc: {e}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"model config is damaged ({type(e).__name__}: {e}); retrain the model") from None


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedModel:
    """Load a model directory written by ``geoenc train`` (safetensors + JSON only; never unpickles)."""
    d = Path(path)
    cfg = read_config(d)
    model = build_from_config(cfg)
    load_weights(model, d / WEIGHTS, cfg.get("weights_sha256"))
    return LoadedModel(model, cfg, d).to(device)

"""Model folders: ``model.safetensors`` + ``config.json`` (+ ``metrics.json``, ``train_log.csv``, ``config.yaml``).

Loading never unpickles: weights come from safetensors, everything else from JSON checked by
:class:`~geoenc.models.spec.ModelSpec`. The SHA-256 of the weights file is recorded in ``config.json`` and
checked on load, so a replaced or tampered weights file is refused. Before the model is built, the shapes
the config asks for are compared with the shapes in the weights file's header (the model is first laid out
on torch's ``meta`` device, which allocates nothing), so an edited config cannot make geoenc allocate
gigabytes; weights that are not finite (a diverged run) are refused too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from geoenc.errors import GeoencError, ModelError, OutputError
from geoenc.io.atomic import AtomicDir
from geoenc.models.spec import FORMAT_VERSION, ModelSpec
from geoenc.provenance import versions

if TYPE_CHECKING:
    from geoenc.encoders import PositionEncoder
    from geoenc.models.location import LocationModel

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
METRICS = "metrics.json"
TRAIN_LOG = "train_log.csv"
CONFIG_YAML = "config.yaml"

__all__ = ["CONFIG", "FORMAT_VERSION", "WEIGHTS", "LoadedModel", "load_model", "read_spec", "write_model_dir"]


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
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=True)


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        fields: list[str] = []
        for r in rows:
            fields += [k for k in r if k not in fields]
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()


def write_model_dir(
    path: str | os.PathLike[str],
    model: nn.Module,
    config: ModelSpec | dict[str, Any],
    *,
    metrics: dict[str, Any] | None = None,
    log_rows: list[dict[str, Any]] | None = None,
    resolved_yaml: str | None = None,
    extra_files: dict[str, bytes] | None = None,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    resume: bool = False,
) -> Path:
    """Write a model folder atomically (:class:`~geoenc.io.atomic.AtomicDir`).

    ``config`` (a :class:`ModelSpec`, or for other kinds of folder a plain mapping) gets ``format_version``,
    the versions and ``weights_sha256``. ``extra_files`` maps relative paths (``checkpoint/state.json``) to
    bytes. ``inputs`` are the command's input files: a folder holding one of them is never replaced.
    """
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    with AtomicDir(path, overwrite, inputs=inputs, resume=resume) as out:
        tmp = out.path
        # one metadata key only: safetensors writes a dict's keys in no fixed order, and the file's hash must be
        # the same for the same weights (deterministic runs give byte-identical model folders)
        try:
            save_file(state_tensors(model), str(tmp / WEIGHTS), metadata={"format": "pt"})
        except (SafetensorError, OSError) as e:  # a full disk, a read-only folder …
            raise OutputError(f"cannot write the weights of {str(path)!r}: {e}") from None
        sha = sha256_file(tmp / WEIGHTS)
        if isinstance(config, ModelSpec):
            config.format_version = FORMAT_VERSION
            v = versions()
            config.geoenc_version, config.torch_version = v["geoenc_version"], v["torch_version"]
            config.weights_sha256 = sha
            cfg = config.to_dict()
        else:
            cfg = {"format_version": FORMAT_VERSION, **versions(), **config, "weights_sha256": sha}
        (tmp / CONFIG).write_text(dumps(cfg) + "\n")
        (tmp / METRICS).write_text(dumps(metrics or {}) + "\n")
        (tmp / TRAIN_LOG).write_text(_csv_text(log_rows or []))
        if resolved_yaml is not None:
            (tmp / CONFIG_YAML).write_text(resolved_yaml)
        for rel, data in (extra_files or {}).items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return Path(path)


def read_config_json(path: str | os.PathLike[str], hint: str = "the folder written by `geoenc train -o`") -> Any:
    """The parsed ``config.json`` of a folder (any kind), with one-line errors for missing or broken files."""
    d = Path(path)
    if not d.is_dir():
        raise ModelError(f"model {d} is not a directory: pass {hint}")
    cfg_path = d / CONFIG
    if not cfg_path.is_file():
        raise ModelError(f"model {d} has no {CONFIG}: pass {hint}")
    if cfg_path.stat().st_size > 64 << 20:
        raise ModelError(f"model {d}: {CONFIG} is over 64 MB, not a geoenc config")
    try:
        return json.loads(cfg_path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"model {d}: {CONFIG} is not valid JSON ({e})") from None


def read_spec(path: str | os.PathLike[str]) -> ModelSpec:
    """Read and check a model folder's ``config.json``."""
    d = Path(path)
    return ModelSpec.from_dict(read_config_json(d), where=f"model {d}: {CONFIG}")


def _adopt_tensor(model: nn.Module, key: str, value: Tensor) -> None:
    """Make room for a fitted encoder's state (e.g. anchors created by ``fit``) before strict loading."""
    modname, _, attr = key.rpartition(".")
    try:
        mod = model.get_submodule(modname)
    except AttributeError:
        return
    if attr in mod._parameters:
        old = mod._parameters[attr]
        mod._parameters[attr] = nn.Parameter(torch.empty_like(value), requires_grad=old is None or old.requires_grad)
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


def weight_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from a safetensors file's header (reads no tensor data)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 - not a dict
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelError(f"model {path.parent}: {path.name} is not a readable safetensors file ({e})") from None


def _check_shapes(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], where: Path) -> None:
    """Refuse weights whose tensor names or shapes differ from the configured model's (fitted state aside)."""
    fitted = "location.position."
    for key, shape in expected.items():
        if key not in found:
            raise ModelError(
                f"model {where}: the weights lack {key!r}: config.json and {WEIGHTS} do not belong "
                "together; retrain or restore the folder"
            )
        if found[key] != shape and not key.startswith(fitted):
            raise ModelError(
                f"model {where}: config.json asks for {key} of shape {list(shape)} but {WEIGHTS} holds "
                f"{list(found[key])}: the config was changed; retrain or restore the folder"
            )
    extra = [k for k in found if k not in expected and not k.startswith(fitted)]
    if extra:
        raise ModelError(
            f"model {where}: {WEIGHTS} holds {extra[0]!r}, which this model does not have: "
            "config.json and the weights do not belong together"
        )


def read_weights(path: Path, expected_sha: str | None, what: str = "model") -> dict[str, Tensor]:
    """The tensors of a safetensors weights file: checksum verified, readable, every float finite."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    where = f"{what} {path.parent}"
    if not path.is_file():
        raise ModelError(f"{where} has no {path.name}: the folder is incomplete, retrain the model")
    if expected_sha is not None and sha256_file(path) != expected_sha:
        raise ModelError(
            f"{where}: {path.name} does not match the checksum in {CONFIG} "
            "(modified or from another model): retrain or restore the folder"
        )
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelError(f"{where}: {path.name} is not a readable safetensors file ({e})") from None
    bad = next((k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())), None)
    if bad is not None:
        raise ModelError(
            f"{where}: weight {bad!r} holds NaN or infinite values (the training run diverged): "
            "train again with a lower --lr"
        )
    return tensors


def assign_weights(
    module: nn.Module, tensors: dict[str, Tensor], where: str, fitted: str = "location.position."
) -> None:
    """Load ``tensors`` into ``module`` strictly; fitted encoder state under ``fitted`` may change shape."""
    own = module.state_dict()
    device = next((t.device for t in own.values()), None)
    for key, value in tensors.items():
        if key.startswith(fitted) and (key not in own or own[key].shape != value.shape):
            # fitted state (e.g. rbf anchors) is sized by the data it was fitted on
            _adopt_tensor(module, key, value.to(device) if device is not None else value)
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        detail = " ".join(x.strip() for x in first[1:3]) if len(first) > 1 else first[0]
        raise ModelError(f"{where}: the weights do not fit the configured model ({detail[:300]})") from None


def load_weights(model: nn.Module, path: Path, expected_sha: str | None) -> None:
    """Load a model folder's safetensors weights into ``model`` (see :func:`read_weights`)."""
    assign_weights(model, read_weights(path, expected_sha), f"model {path.parent}")


def build_from_spec(spec: ModelSpec, device: str | torch.device | None = None) -> LocationModel:
    """The :class:`~geoenc.models.location.LocationModel` a spec describes (untrained weights).

    ``device="meta"`` lays the model out without allocating memory (to check shapes); an encoder that cannot
    be built there (some set up tables with data-dependent operations) is built on the CPU instead.
    """
    from geoenc.encoders import get_encoder
    from geoenc.models.location import build_model

    feats = spec.features

    def build(position: PositionEncoder | None) -> LocationModel:
        return build_model(
            spec.encoder.name,
            spec.encoder.params,
            spec.net.name,
            spec.net.params,
            spec.task,
            spec.n_outputs,
            feature_dim=feats.dim if feats else None,
            feature_hidden=feats.hidden if feats else 256,
            position=position,
        )

    try:
        if device is None:
            return build(None)
        try:
            with torch.device(device):
                return build(None)
        except (NotImplementedError, RuntimeError):
            position = get_encoder(spec.encoder.name, **spec.encoder.params)
            with torch.device(device):
                return build(position)
    except GeoencError as e:
        raise ModelError(f"model config cannot be built with this geoenc: {e}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"model config is damaged ({type(e).__name__}: {e}); retrain the model") from None


class LoadedModel:
    """A location model ready for inference, read from a model folder (or fresh from training).

    ``embed`` gives the location embedding (the net's output before the head); ``predict`` gives class
    probabilities ``(N, C)`` (softmax for the ``ce`` loss, per-class sigmoid scores for ``an_full``/``bce``)
    or regression values ``(N,)`` in the target's units; ``predict_batches`` yields the same batch by batch,
    so a caller can reduce each batch (top-k, argmax) without holding ``N × C`` values. Inputs are a tensor
    or array of ``(N, 2)`` lon/lat degrees; outputs are tensors on the input's device (CPU for numpy input).
    """

    def __init__(self, model: LocationModel, spec: ModelSpec, path: Path | None = None) -> None:
        self.model = model.eval()
        self.spec = spec
        self.path = path
        first: Tensor | None = next(iter(model.parameters()), None)
        if first is None:
            first = next(iter(model.buffers()), None)
        self.device = first.device if first is not None else torch.device("cpu")

    # -- descriptive ----------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """The ``config.json`` mapping."""
        return self.spec.to_dict()

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def classes(self) -> list[str] | None:
        return self.spec.classes

    @property
    def encoder_name(self) -> str:
        return self.spec.encoder.name

    @property
    def encoder_params(self) -> dict[str, Any]:
        return dict(self.spec.encoder.params)

    @property
    def net_name(self) -> str:
        return self.spec.net.name

    @property
    def loss(self) -> str:
        return self.spec.loss or "ce"

    @property
    def label(self) -> str | None:
        return self.spec.label

    @property
    def feature_column(self) -> str | None:
        return self.spec.feature_column

    @property
    def embedding_dim(self) -> int:
        return int(self.model.embedding_dim)

    @property
    def model_hash(self) -> str | None:
        return self.spec.weights_sha256

    def to(self, device: str | torch.device) -> LoadedModel:
        self.device = torch.device(device)
        self.model.to(self.device)
        return self

    # -- inference ------------------------------------------------------------------------------
    def _input(self, lonlat: Any) -> Tensor:
        t = lonlat if isinstance(lonlat, Tensor) else torch.as_tensor(np.asarray(lonlat, dtype=np.float64))
        if t.ndim != 2 or t.shape[-1] != 2:
            raise ModelError(f"expected (N, 2) lon/lat degrees, got shape {tuple(t.shape)}")
        return t

    def _batches(self, fn: Any, lonlat: Any, features: Any = None, batch_size: int = 65536) -> Iterator[Tensor]:
        t = self._input(lonlat)
        f = None
        if features is not None:
            f = features if isinstance(features, Tensor) else torch.as_tensor(np.asarray(features, dtype=np.float32))
        with torch.inference_mode():
            for i in range(0, max(t.shape[0], 1), batch_size):
                xb = t[i : i + batch_size].to(self.device, torch.float64)  # coordinates stay exact to the encoder
                fb = f[i : i + batch_size].to(self.device, torch.float32) if f is not None else None
                yield fn(xb, fb).float()

    def embed(self, lonlat: Any, batch_size: int = 65536) -> Tensor:
        """``(N, 2)`` lon/lat degrees → ``(N, embedding_dim)`` float32 location embeddings."""
        out_device = lonlat.device if isinstance(lonlat, Tensor) else torch.device("cpu")
        parts = self._batches(lambda x, f: self.model.location(x), lonlat, None, batch_size)
        return torch.cat([p.to(out_device) for p in parts])

    def predict_batches(self, lonlat: Any, features: Any = None, batch_size: int = 65536) -> Iterator[Tensor]:
        """Class probabilities ``(B, C)`` or regression values ``(B,)``, one batch of rows at a time."""
        if self.task == "embedding":
            raise ModelError(
                f"model {self.path or ''} has no prediction head (task 'embedding'): use embed, "
                "or fine-tune it on labels first"
            )
        if self.model.features is not None and features is None:
            raise ModelError(f"model needs the feature column {self.feature_column!r} (it was trained with --features)")
        if self.model.features is None:
            features = None
        stats = self.spec.target_stats or {"mean": 0.0, "std": 1.0}

        def run(x: Tensor, f: Tensor | None) -> Tensor:
            out = self.model.scores(self.model(x, f), self.loss)
            if self.task == "regression":
                out = out * float(stats["std"]) + float(stats["mean"])
            return out

        return self._batches(run, lonlat, features, batch_size)

    def predict(self, lonlat: Any, features: Any = None, batch_size: int = 65536) -> Tensor:
        """Class probabilities ``(N, C)`` or regression values ``(N,)``."""
        out_device = lonlat.device if isinstance(lonlat, Tensor) else torch.device("cpu")
        return torch.cat([p.to(out_device) for p in self.predict_batches(lonlat, features, batch_size)])


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> LoadedModel:
    """Load a model folder written by ``geoenc train``/``pretrain``/``pretrained import`` (never unpickles)."""
    d = Path(path)
    spec = read_spec(d)
    weights = d / WEIGHTS
    if not weights.is_file():
        raise ModelError(f"model {d} has no {WEIGHTS}: the folder is incomplete, retrain the model")
    found = weight_shapes(weights)
    laid_out = build_from_spec(spec, device="meta")
    _check_shapes({k: tuple(v.shape) for k, v in laid_out.state_dict().items()}, found, d)
    model = build_from_spec(spec)
    load_weights(model, weights, spec.weights_sha256)
    return LoadedModel(model, spec, d).to(device)

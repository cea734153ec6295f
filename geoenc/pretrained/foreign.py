"""Reading other projects' checkpoints without running code from them, and copying their tensors in.

Every foreign file is read with ``torch.load(weights_only=True)``: PyTorch's restricted unpickler, which
rebuilds tensors, containers and plain Python values and refuses any other class or function. The only
globals added to its allow-list are numpy's scalar and dtype constructors (data only), because research
code often leaves numpy numbers in its hyper-parameter dicts. A file the restricted unpickler refuses is
refused here too, with one line that names the offending global and how to convert the file once.
"""

from __future__ import annotations

import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from geoenc.errors import InputError, ModelError


def _numpy_safe_globals() -> list[Any]:
    """numpy's scalar reconstructor and the dtype classes of plain numbers (no arrays, no objects)."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return []
    core = getattr(np, "_core", None) or np.core
    out: list[Any] = [core.multiarray.scalar, np.dtype]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        for name in (
            "BoolDType",
            "Int8DType",
            "Int16DType",
            "Int32DType",
            "Int64DType",
            "UInt8DType",
            "UInt16DType",
            "UInt32DType",
            "UInt64DType",
            "Float16DType",
            "Float32DType",
            "Float64DType",
        ):
            if hasattr(dtypes, name):
                out.append(getattr(dtypes, name))
    return out


def _first_line(text: str, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def load_checkpoint(path: str | Path, what: str, convert_hint: str) -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True)`` with one-line errors.

    Args:
        path: the checkpoint file.
        what: what the file should be, for messages (e.g. ``"SatCLIP checkpoint"``).
        convert_hint: how to turn the file into a plain one when the restricted unpickler refuses it
            (shown after "convert it once, if you trust the file: ").

    Raises:
        InputError: the file does not exist or cannot be opened.
        ModelError: the file is empty, truncated or corrupt, or holds pickled objects that safe loading refuses.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {p} does not exist: pass the path of the downloaded file with --from")
    if not p.is_file():
        raise InputError(f"{what} {p} is not a file: pass the checkpoint file itself with --from")
    if p.stat().st_size == 0:
        raise ModelError(f"{what} {p} is empty: download it again")
    try:
        # torch warns about pickle protocols it did not write; the outcome (loaded or refused) is what counts
        with warnings.catch_warnings(), torch.serialization.safe_globals(_numpy_safe_globals()):
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        text = str(e)
        if "Weights only load failed" in text or "Unsupported global" in text:
            m = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)", text)
            op = re.search(r"Unsupported operand (\d+)", text)
            found = f" ({m.group(1)})" if m else f" (pickle opcode {op.group(1)})" if op else ""
            hint = convert_hint.replace("'IN'", repr(str(p)))
            raise ModelError(
                f"{what} {p} holds pickled Python objects{found} that safe loading (torch.load weights_only=True) "
                f"refuses, and geoenc never unpickles code; convert it once, if you trust the file: {hint}"
            ) from None
        raise ModelError(
            f"{what} {p} is not a readable PyTorch file ({_first_line(text)}): download it again"
        ) from None
    except Exception as e:  # noqa: BLE001 - on a damaged file the unpickler fails in many ways (IndexError, struct …)
        raise ModelError(
            f"{what} {p} is truncated or corrupt ({_first_line(str(e) or type(e).__name__)}): download it again"
        ) from None


def plain_values(d: Mapping[str, Any]) -> dict[str, Any]:
    """A hyper-parameter dict with numpy scalars turned into Python numbers (``np.int64(3)`` → ``3``)."""
    out = {}
    for key, value in d.items():
        item = getattr(value, "item", None)
        out[key] = item() if callable(item) and getattr(value, "shape", None) == () else value
    return out


def guess_format(obj: Any) -> str | None:
    """The registry name of the known checkpoint layout ``obj`` looks like, or None."""
    if not isinstance(obj, Mapping):
        return None
    keys = set(obj)
    if "hyper_parameters" in keys and "state_dict" in keys:
        hp = obj.get("hyper_parameters")
        if isinstance(hp, Mapping) and "legendre_polys" in hp:
            return "satclip"
        return None
    if "state_dict" in keys and "params" in keys and isinstance(obj.get("params"), Mapping):
        params = obj["params"]
        if "spa_enc_type" in params:
            return "csp"
        if "input_enc" in params and "num_filts" in params:
            return "sinr"
        return None
    if any(str(k).startswith("LocEnc0.capsule.") for k in keys):
        return "geoclip"
    return None


def positive(value: Any, where: str, *, integer: bool = True) -> Any:
    """``value`` as a positive int (or float with ``integer=False``), or a ModelError naming ``where`` it came from.

    Integral floats count as integers (hyper-parameters often round-trip through JSON or numpy as floats).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not value > 0
        or (integer and int(value) != value)
    ):
        kind = "a positive integer" if integer else "a positive number"
        raise ModelError(f"{where}={value!r} is not {kind}")
    return int(value) if integer else float(value)


def wrong_model(path: Path, what: str, obj: Any, expected: str, missing: str) -> ModelError:
    """A one-line error for a checkpoint of another model (naming it when recognised)."""
    guess = guess_format(obj)
    if guess is not None and guess != expected:
        return ModelError(
            f"{path} is not a {what}: it looks like a {guess} checkpoint; import it with "
            f"`geoenc pretrained import {guess} --from {path}`"
        )
    if not isinstance(obj, Mapping):
        return ModelError(f"{path} is not a {what}: it holds a {type(obj).__name__}, not a dict of weights")
    return ModelError(f"{path} is not a {what}: {missing}")


class StateReader:
    """Takes tensors out of a foreign state dict by name, checking shapes, and says which were left over."""

    def __init__(self, state: Mapping[str, Any], path: Path, what: str) -> None:
        self.state = state
        self.path = path
        self.what = what
        self.used: set[str] = set()

    def has(self, key: str) -> bool:
        return key in self.state

    def take(self, key: str, shape: tuple[int, ...] | None = None) -> Tensor:
        if key not in self.state:
            raise ModelError(f"{self.path} is not a {self.what}: it lacks the weights {key!r}")
        value = self.state[key]
        if not isinstance(value, Tensor):
            raise ModelError(f"{self.path}: {key!r} is a {type(value).__name__}, not a tensor: the file is damaged")
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ModelError(
                f"{self.path}: {key!r} has shape {tuple(value.shape)}, expected {tuple(shape)} "
                f"from the {self.what}'s hyper-parameters: the file is damaged or of another model"
            )
        if not torch.is_floating_point(value):
            raise ModelError(f"{self.path}: {key!r} holds {value.dtype} values, not floats: the file is damaged")
        if not torch.isfinite(value).all():
            raise ModelError(f"{self.path}: {key!r} holds NaN or infinite values: the file is damaged")
        self.used.add(key)
        return value

    def leftover(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.state if k.startswith(prefix) and k not in self.used)


def copy_into(module: torch.nn.Module, values: Mapping[str, Tensor], path: Path) -> None:
    """Copy ``values`` (geoenc names → tensors) into ``module``'s parameters and buffers; every one must be set."""
    own = module.state_dict()
    missing = sorted(set(own) - set(values))
    if missing:  # pragma: no cover - a programming error in an importer, not a user error
        raise RuntimeError(f"importer left {missing} unset")
    with torch.no_grad():
        for key, value in values.items():
            target = own[key]
            if tuple(target.shape) != tuple(value.shape):
                raise ModelError(
                    f"{path}: weights for {key} have shape {tuple(value.shape)}, expected {tuple(target.shape)}"
                )
            target.copy_(value.to(target.dtype))

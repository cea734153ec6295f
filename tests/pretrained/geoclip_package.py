"""The ``geoclip`` package's own ``LocationEncoder``, imported without the package's heavy dependencies.

``import geoclip`` runs ``geoclip/__init__.py``, which imports the image encoder (transformers, PIL,
torchvision) and the training helpers (geopy, tqdm). The location encoder needs none of them: this module
registers empty parent packages pointing at the installed files, so that only
``geoclip/model/location_encoder.py`` and what it imports (``misc.py``: pandas; ``rff/``) are executed.
Used by the tests and by the reference and benchmark scripts; the package is installed with
``pip install --no-deps geoclip==1.3.0``.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

VERSION = "1.3.0"


def package_dir() -> Path | None:
    """The installed geoclip package folder (found without importing it), or None."""
    spec = importlib.util.find_spec("geoclip")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("geoclip")
    except PackageNotFoundError:
        return None


def location_encoder_class() -> Any:
    """``geoclip.model.location_encoder.LocationEncoder`` (raises ImportError when geoclip is missing)."""
    root = package_dir()
    if root is None:
        raise ImportError("geoclip is not installed: pip install --no-deps geoclip==1.3.0")
    for name, path in (("geoclip", root), ("geoclip.model", root / "model")):
        mod = sys.modules.get(name)
        if mod is None:
            mod = types.ModuleType(name)
            mod.__path__ = [str(path)]
            mod.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
            mod.__spec__.submodule_search_locations = [str(path)]
            sys.modules[name] = mod
    return importlib.import_module("geoclip.model.location_encoder").LocationEncoder


def weights_file() -> Path:
    root = package_dir()
    if root is None:
        raise ImportError("geoclip is not installed: pip install --no-deps geoclip==1.3.0")
    return root / "model" / "weights" / "location_encoder_weights.pth"

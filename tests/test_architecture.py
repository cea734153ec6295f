"""The package's layering, checked by walking every import (module level and inside functions).

Run alone with ``python -m pytest tests/test_architecture.py -q``; it reads the source with ``ast`` and imports
nothing of geoenc (except the last test, which checks what ``import geoenc`` loads in a fresh interpreter).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "geoenc"

#: the layers, lowest first: a module may import its own package and any package of a lower layer
LAYERS = [
    ["_version", "errors"],
    ["defaults", "params", "threads", "catalogue"],
    ["registry", "device", "provenance"],
    ["io"],
    ["encoders", "nets", "metrics", "maps"],
    ["models"],
    ["training"],
    ["pretrain", "pretrained", "imagery", "benchmark"],
    ["workflows"],
    ["api"],
    ["cli"],
    ["__main__"],
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
#: third-party packages a part of geoenc must not import (anywhere, not even lazily)
FORBIDDEN = {
    "io": {"torch", "typer", "rich"},
    "maps": {"torch", "typer", "rich"},
    "metrics": {"torch", "typer", "rich"},
    "*": {"typer", "rich"},  # every part except cli
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULE_NAMES = {
    ".".join(p.relative_to(PKG.parent).with_suffix("").parts).removesuffix(".__init__") for p in PKG.rglob("*.py")
}


def _imports(path: Path, module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import statement in the file."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    found = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            for alias in node.names:  # `from geoenc.pkg import mod` imports the module geoenc.pkg.mod
                sub = f"{name}.{alias.name}"
                found.append((sub if sub in MODULE_NAMES else name, node.lineno, id(node) in top))
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


MODULES = _modules()


def test_every_part_has_a_layer():
    parts = {_part(m) for m in MODULES} - {"__init__"}
    assert parts <= set(RANK), f"add these to LAYERS: {sorted(parts - set(RANK))}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_run_downward(module):
    part = _part(module)
    if part == "__init__":  # the package root loads the API lazily, on first attribute access
        return
    for name, line, _ in _imports(MODULES[module], module):
        if name == "geoenc" or name.startswith("geoenc."):
            target = _part(name)
            if target in ("__init__",):
                continue
            assert RANK[target] <= RANK[part], (
                f"{module}:{line} imports {name}: {part} (layer {RANK[part]}) may not import {target} "
                f"(layer {RANK[target]})"
            )
            assert RANK[target] < RANK[part] or target == part, (
                f"{module}:{line} imports {name}: {part} and {target} share a layer; only lower layers may be imported"
            )
        else:
            root = name.split(".")[0]
            banned = FORBIDDEN.get(part, set()) | (FORBIDDEN["*"] if part not in ("cli", "__main__") else set())
            assert root not in banned, f"{module}:{line} imports {root}, which {part} must not use"


def test_no_import_cycles_at_module_level():
    graph = {m: {n for n, _, top in _imports(p, m) if top and n in MODULES and n != m} for m, p in MODULES.items()}
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            if state.get(n) == 1:
                cycle = [*stack[stack.index(n) :], n]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if n not in state:
                visit(n, [*stack, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_import_geoenc_and_the_cli_stay_light():
    code = (
        "import sys, geoenc, geoenc.cli.main; "
        "print(sorted(m for m in ('torch', 'pyarrow', 'numpy', 'shapely', 'pyproj', 'rasterio') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout

"""docs/python.md runs: every ```python block, in order, in one namespace, from the repository's root.

A ```text block right after a Python block is that block's printed output and must match it exactly.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "python.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.M | re.S)


def blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, code, line of the opening fence) of every fenced block."""
    return [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)]


def test_page_has_the_acceptance_steps():
    code = "\n".join(c for lang, c, _ in blocks(PAGE.read_text()) if lang == "python")
    for step in ("gpd.read_parquet", "geoenc.encode(", "geoenc.train(", ".predict(", ".evaluate(", "geoenc.geobias("):
        assert step in code, step
    assert "docs/python.md" in (ROOT / "README.md").read_text()


def test_python_md_runs_top_to_bottom(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    found = blocks(PAGE.read_text())
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    for i, (lang, code, line) in enumerate(found):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{PAGE}:{line}", "exec"), namespace)
        ran += 1
        nxt = found[i + 1] if i + 1 < len(found) else None
        if nxt is not None and nxt[0] == "text" and _adjacent(PAGE.read_text(), line, nxt[2]):
            assert out.getvalue() == nxt[1], f"the output shown at {PAGE.name}:{nxt[2]} is not what the block prints"
    assert ran >= 10
    import matplotlib.pyplot as plt

    plt.close("all")


def _adjacent(text: str, line: int, next_line: int) -> bool:
    """True when only blank lines separate the block at ``line`` from the block at ``next_line``."""
    lines = text.splitlines()
    end = next(j for j in range(line, len(lines)) if lines[j].startswith("```"))
    return all(not s.strip() for s in lines[end + 1 : next_line - 1])

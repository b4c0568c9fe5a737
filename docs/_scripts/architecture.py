"""The package's import graph, drawn from the code while the documentation is built.

The layers are read from import-linter's contract in `pyproject.toml` (the rule the test command
enforces); the arrows from the imports themselves, found by grimp (import-linter's own graph
builder). So the picture shows the tree as it is, never a drawing that went stale.

    uv run --group docs python docs/_scripts/architecture.py   # writes architecture.png here
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "pymc_bnn"


def layers() -> list[list[str]]:
    """The contract's layers, top first, each a list of its parts ("cli", "model", ...)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    return [[part.strip() for part in re.split(r"[|:]", layer)] for layer in contract["layers"]]


def part_of(module: str, parts: set[str]) -> str | None:
    """The layer part that holds `module` ("pymc_bnn.model.network" → "model"), or None."""
    names = module.split(".")
    return names[1] if len(names) > 1 and names[1] in parts else None


def part_imports() -> tuple[Counter, dict[str, list[str]]]:
    """(how many module imports run from each part to each other part; each part's modules)."""
    import grimp

    parts = {part for layer in layers() for part in layer}
    graph = grimp.build_graph(PACKAGE)
    arrows: Counter = Counter()
    members: dict[str, list[str]] = {part: [] for part in parts}
    for module in sorted(graph.modules):
        source = part_of(module, parts)
        if source is None:
            continue
        members[source].append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            target = part_of(imported, parts)
            if target is not None and target != source:
                arrows[source, target] += 1
    return arrows, members


def modules_table() -> str:
    """A Markdown table: each part, top layer first, with its modules and their lines."""
    _, members = part_imports()
    lines = ["| layer | part | modules (lines) |", "|---|---|---|"]
    for depth, row in enumerate(layers(), start=1):
        for part in row:
            cells = []
            for module in members[part]:
                path = ROOT / "src" / Path(*module.split("."))
                if path.is_dir() and module == f"{PACKAGE}.{part}":
                    continue  # the part's own __init__: its modules are the cells
                file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
                name = module.removeprefix(f"{PACKAGE}.{part}").lstrip(".") or part
                count = len(file.read_text(encoding="utf-8").splitlines())
                cells.append(f"`{name}` ({count})")
            lines.append(f"| {depth} | `{part}` | {', '.join(cells)} |")
    return "\n".join(lines)


def draw(path: Path | None = None):
    """The layer diagram as a matplotlib figure (saved to `path` when given).

    One row per layer, top first; one box per part, labelled with its number of modules; one
    arrow per pair of parts with an import between them, as wide as the number of imports.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    rows = layers()
    arrows, members = part_imports()
    place = {}
    for depth, row in enumerate(rows):
        for i, part in enumerate(row):
            place[part] = ((i + 1) / (len(row) + 1), 1 - (depth + 0.5) / len(rows))
    fig, ax = plt.subplots(figsize=(9, 0.75 * len(rows) + 1))
    ax.set_axis_off()
    height = 0.55 / len(rows)
    width = {part: min(0.17, 0.85 / len(row)) for row in rows for part in row}
    for (source, target), count in sorted(arrows.items()):
        (x0, y0), (x1, y1) = place[source], place[target]
        ax.add_patch(FancyArrowPatch((x0, y0 - height / 2), (x1, y1 + height / 2),
                                     arrowstyle="-|>", mutation_scale=9, color="0.55",
                                     linewidth=0.4 + 0.25 * count ** 0.5, alpha=0.7,
                                     connectionstyle="arc3,rad=0.08", zorder=1))
    for part, (x, y) in place.items():
        ax.add_patch(FancyBboxPatch((x - width[part] / 2, y - height / 2), width[part], height,
                                    boxstyle="round,pad=0.005", facecolor="#e8eef7",
                                    edgecolor="#34558b", zorder=2))
        package = (ROOT / "src" / PACKAGE / part).is_dir()
        modules = len([m for m in members[part] if m != f"{PACKAGE}.{part}"] if package
                      else members[part])
        label = f"{part}/" if package else f"{part}.py"
        ax.text(x, y, f"{label}\n{modules} module{'s' if modules != 1 else ''}",
                ha="center", va="center", fontsize=8, zorder=3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("pymc_bnn: layers (top imports bottom), arrows = imports between parts",
                 fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=150, bbox_inches="tight")
    return fig


if __name__ == "__main__":
    draw(Path(__file__).with_name("architecture.png"))

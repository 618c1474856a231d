"""Repository checks run by ``make lint`` and the tests: notebooks are committed without outputs.

python -m analysis.pipeline.checks notebooks
"""

from __future__ import annotations

import sys
from pathlib import Path

from analysis import config
from analysis.pipeline.notebooks import cells_with_outputs


def notebooks_with_outputs(folder: Path | None = None) -> dict[str, list[int]]:
    """``{notebook: [cell indexes with outputs]}`` for every notebook under ``folder``."""
    folder = folder or config.notebooks_dir()
    found = {}
    for path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        cells = cells_with_outputs(path)
        if cells:
            found[str(path.relative_to(folder.parent))] = cells
    return found


def main(argv: list[str]) -> int:
    """``python -m analysis.pipeline.checks notebooks``: exit 1 listing notebooks with outputs."""
    if argv[:1] != ["notebooks"]:
        print("usage: python -m analysis.pipeline.checks notebooks", file=sys.stderr)
        return 2
    found = notebooks_with_outputs()
    for name, cells in found.items():
        print(
            f"{name}: cells {cells} have outputs or execution counts; "
            "clear them (nbstripout, or `pre-commit run --all-files`)",
            file=sys.stderr,
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

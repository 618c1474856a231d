"""A build's worker runs its months one after another on one kept kernel: the kernel is the
same from run to run, each run starts without the previous run's names, and a failed run
leaves the next one a fresh kernel."""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
import pytest

from analysis.errors import NotebookFailed
from analysis.pipeline.notebooks import _Kernel, run_notebook

pytestmark = pytest.mark.slow


def _notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "ee-draws", "display_name": "ee-draws"}
    nbformat.write(notebook, path)
    return path


def _pid(record: Path) -> int:
    executed = nbformat.read(record, as_version=4)
    return int(executed.cells[-1].outputs[0]["text"].strip())


def test_runs_share_one_kernel_without_sharing_names(tmp_path):
    first = _notebook(tmp_path / "first.ipynb", "leaked = 1", "import os\nprint(os.getpid())")
    second = _notebook(
        tmp_path / "second.ipynb",
        "assert 'leaked' not in globals(), 'a name of the previous run is still defined'",
        "import os\nprint(os.getpid())",
    )
    failing = _notebook(tmp_path / "failing.ipynb", "raise ValueError('round 12: bad cutoff')")
    try:
        run_notebook(str(first), tmp_path / "out1.ipynb", reuse=True)
        run_notebook(str(second), tmp_path / "out2.ipynb", reuse=True)
        assert _pid(tmp_path / "out1.ipynb") == _pid(tmp_path / "out2.ipynb")
        sockets = _Kernel.sockets
        assert sockets is not None and sockets.is_dir()

        with pytest.raises(NotebookFailed, match="round 12: bad cutoff"):
            run_notebook(str(failing), tmp_path / "out3.ipynb", reuse=True)
        assert _Kernel.km is None and not sockets.exists()  # closed after the failure

        run_notebook(str(first), tmp_path / "out4.ipynb", reuse=True)
        assert _pid(tmp_path / "out4.ipynb") != _pid(tmp_path / "out1.ipynb")
    finally:
        _Kernel.close()
    assert _Kernel.km is None
    assert not list(Path(tempfile.gettempdir()).glob(f"{sockets.name}*"))

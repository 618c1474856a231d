"""A build's worker runs its months one after another on one kept kernel: the kernel is the
same from run to run, each run starts without the previous run's names, and a failed run
leaves the next one a fresh kernel."""

from __future__ import annotations

import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest

from analysis.errors import NotebookFailed
from analysis.pipeline.notebooks import _Kernel, run_notebook
from analysis.storage import process_alive

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


def _run_in_worker(notebook: str, out: str) -> tuple[int, str]:
    run_notebook(notebook, Path(out), reuse=True)
    return _pid(Path(out)), str(_Kernel.sockets)


def test_a_pool_workers_kernel_is_shut_down_when_the_worker_ends(tmp_path):
    """A pool's worker leaves through ``os._exit`` (no atexit): its kept kernel is still shut
    down and its socket folder removed, not left to notice its parent has gone."""
    notebook = _notebook(tmp_path / "pid.ipynb", "import os\nprint(os.getpid())")
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        kernel_pid, sockets = pool.submit(
            _run_in_worker, str(notebook), str(tmp_path / "o.ipynb")
        ).result()
        assert Path(sockets).is_dir() and process_alive(kernel_pid)
    # the worker has exited: its kernel was stopped and its sockets removed on the way out
    assert not Path(sockets).exists()
    assert not process_alive(kernel_pid)

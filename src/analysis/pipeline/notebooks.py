"""Running the project's notebooks with papermill, on the project's own kernel.

Executed copies are the run records. A failing cell becomes a :class:`NotebookFailed` whose
message is the error raised inside the notebook (our helpers raise errors that name the round
and the field), not a wall of traceback.

>>> from analysis.pipeline.notebooks import run_notebook      # doctest: +SKIP
>>> run_notebook("1.1-clean", "data/runs/1.1-clean.ipynb", {"force": True})  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import multiprocessing.util
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from analysis import config
from analysis.errors import NotebookFailed
from analysis.storage import leftover_prefix, remove_leftovers

log = logging.getLogger(__name__)


def notebook_path(name: str) -> Path:
    """``'1.1-clean'`` -> ``notebooks/1.1-clean.ipynb``."""
    path = Path(name)
    if path.suffix != ".ipynb":
        path = config.notebooks_dir() / f"{name}.ipynb"
    if not path.exists():
        raise FileNotFoundError(f"notebook {path} does not exist")
    return path


def kernel_ready(name: str = config.KERNEL_NAME) -> bool:
    """True when kernel ``name`` is registered and runs this environment's Python."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return False
    return Path(spec.argv[0]).resolve() == Path(sys.executable).resolve() or spec.argv[0] in (
        "python",
        "python3",
    )


def ensure_kernel(name: str = config.KERNEL_NAME) -> None:
    """Register the project's kernel in this environment (``--sys-prefix``) if it is missing."""
    if not kernel_ready(name):
        from ipykernel.kernelspec import install

        install(kernel_name=name, display_name=f"Python ({name})", prefix=sys.prefix)


def _ipc_kernel_manager(socket_dir: Path):
    """A kernel manager talking to its kernel over Unix sockets named for it alone, instead of
    TCP ports: parallel papermill runs are known to race for ports (jupyter_client picks free
    ports, then binds them later), and jupyter_client's default socket name ("kernel-ipc" in
    the working directory) is shared by kernels started side by side."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def client(self, **kwargs):
            # nbclient leaves open the clients it makes on a kernel it does not own: kept here
            # to be closed after the run (:meth:`_Kernel.release`)
            made = super().client(**kwargs)
            self.__dict__.setdefault("opened", []).append(made)
            return made

    socket_prefix = str(socket_dir / f"kernel-{uuid.uuid4().hex[:12]}")
    return IPCKernelManager(kernel_name=config.KERNEL_NAME, transport="ipc", ip=socket_prefix)


class _Kernel:
    """This process's kernel for its notebook runs. With ``reuse=True`` it is kept from run to
    run (a build's worker runs one month after another on it: the kernel's start and the
    imports, about half of a month's cost, are paid once), its names cleared between runs
    (``%reset -f``); otherwise each run gets a fresh one. It is shut down after a failed run
    and when the process ends, a pool's worker included (a killed worker's kernel notices its
    parent is gone and stops)."""

    km = None
    sockets: Path | None = None

    @classmethod
    def manager(cls):
        if cls.km is None:
            cls.sockets = Path(tempfile.mkdtemp(prefix=leftover_prefix("ee-kernel-")))
            cls.km = _ipc_kernel_manager(cls.sockets)
            # a pool's worker leaves through os._exit, which skips atexit but runs these
            multiprocessing.util.Finalize(None, cls.close, exitpriority=10)
        elif cls.km.has_kernel:
            cls._reset()
        return cls.km

    @classmethod
    def _reset(cls) -> None:
        client = cls.km.blocking_client()
        client.start_channels()
        try:
            reply = client.execute_interactive("%reset -f", timeout=60, silent=True)
        finally:
            client.stop_channels()
        if reply["content"]["status"] != "ok":
            raise RuntimeError("the kept kernel could not be cleared")

    @classmethod
    def release(cls) -> None:
        """Close the clients the last run opened on the kernel (the kernel goes on)."""
        opened = [] if cls.km is None else cls.km.__dict__.pop("opened", [])
        for client in opened:
            with contextlib.suppress(Exception):  # already closed
                client.stop_channels()

    @classmethod
    def close(cls) -> None:
        cls.release()
        km, sockets, cls.km, cls.sockets = cls.km, cls.sockets, None, None
        if km is not None and km.has_kernel:
            with contextlib.suppress(Exception):  # already gone: nothing to stop
                asyncio.run(km.shutdown_kernel(now=True))
        if sockets is not None:
            shutil.rmtree(sockets, ignore_errors=True)


atexit.register(_Kernel.close)


def run_notebook(
    name: str, output: Path, parameters: dict | None = None, reuse: bool = False
) -> Path:
    """Execute notebook ``name`` with papermill into ``output`` on the project's kernel, in the
    notebooks' folder. ``reuse``: on this process's kept kernel (:class:`_Kernel`), cleared
    of the previous run's names, instead of a new one.

    Raises :class:`NotebookFailed` with the notebook's own error message when a cell fails;
    the partially executed notebook is kept at ``output`` as the record of what happened.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    ensure_kernel()
    source = notebook_path(name)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Kernel sockets of runs that were killed (their process is gone; the folder name carries
    # the maker's id) are removed first. The system's temporary folder is shared: a folder that
    # names no maker (made by an older version, perhaps still running) only after a day.
    remove_leftovers(Path(tempfile.gettempdir()), "ee-kernel-*", unowned_age=86_400)
    if not reuse:
        _Kernel.close()
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=parameters or {},
            kernel_name=config.KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            cwd=str(config.notebooks_dir()),
            km=_Kernel.manager(),
        )
    except BaseException as exc:
        _Kernel.close()  # after a failure the next run starts on a fresh kernel
        if isinstance(exc, PapermillExecutionError):
            raise NotebookFailed(source.stem, exc.ename, exc.evalue, output) from None
        raise
    if reuse:
        _Kernel.release()
    else:
        _Kernel.close()
    return output

"""`make lab` works for every user, root included, and opens on the project's kernel."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from analysis import config

ROOT = config.PROJECT_ROOT


def lab_command(*run_as: str) -> list[str]:
    """The command line `make lab` would run (``make -n``), optionally as another user."""
    result = subprocess.run(
        [*run_as, "make", "--no-print-directory", "-n", "lab"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    (line,) = [line for line in result.stdout.splitlines() if "jupyter lab" in line]
    return shlex.split(line)


def test_lab_opens_on_the_project_kernel():
    command = lab_command()
    assert f"--MappingKernelManager.default_kernel_name={config.KERNEL_NAME}" in command
    assert "--ServerApp.root_dir=notebooks" in command
    assert ("--allow-root" in command) == (os.geteuid() == 0)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root")
def test_lab_allows_root_only_for_root():
    assert "--allow-root" in lab_command()
    as_nobody = lab_command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    assert "--allow-root" not in as_nobody
    assert f"--MappingKernelManager.default_kernel_name={config.KERNEL_NAME}" in as_nobody


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_lab_starts_for_this_user_and_offers_the_project_kernel(tmp_path):
    """Run the command `make lab` builds (as whoever runs the tests, root included) and ask the
    server which kernel a new notebook gets."""
    port, token = _free_port(), "ee-draws-test"
    server = subprocess.Popen(
        [
            *lab_command(),
            "--no-browser",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            "--ServerApp.open_browser=False",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "lab.log").open("w"),
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
    )
    try:
        url = f"http://127.0.0.1:{port}/api/kernelspecs?token={token}"
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (tmp_path / "lab.log").read_text()
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    specs = json.load(answer)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert specs["default"] == config.KERNEL_NAME
    assert config.KERNEL_NAME in specs["kernelspecs"]

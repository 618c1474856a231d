"""One command at a time: the data lock and the site lock (``analysis.pipeline.lock``): who holds
a lock is named, waiting is bounded, one process re-enters its own lock, forked workers and dead
processes keep no lock, and a lock file planted as a symbolic link is refused, its target
untouched."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from analysis.errors import LockRefused
from analysis.pipeline.lock import exclusive
from helpers import FEEDS, run_ee

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from analysis.pipeline.lock import exclusive
    with exclusive(Path(sys.argv[1]), "the test"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def hold_elsewhere(path: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the lock at ``path`` for ``seconds`` (returns once it holds it)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_held_lock_names_its_holder_and_is_not_waited_for(tmp_path):
    path = tmp_path / "data" / ".ee.lock"
    holder = hold_elsewhere(path, 30)
    try:
        with pytest.raises(LockRefused) as refused, exclusive(path, "the data in data/"):
            pass
        message = str(refused.value)
        assert message.startswith("another `ee` command is working on the data in data/ (pid ")
        assert f"pid {holder.pid}: ee " in message and "since 20" in message
        assert message.endswith("try again when it ends")
    finally:
        holder.kill()
        holder.wait()


def test_a_waiting_command_gets_the_lock_when_the_holder_ends(tmp_path):
    path = tmp_path / ".ee.lock"
    holder = hold_elsewhere(path, 0.5)
    with exclusive(path, "the data", wait=60):  # waits for the holder's half second
        assert f"pid {os.getpid()}: ee" in path.read_text()  # ee and its arguments (none here)
    assert holder.wait(timeout=60) == 0


def test_one_process_reenters_its_own_lock_and_releases_it_once(tmp_path):
    path = tmp_path / ".ee.lock"
    with exclusive(path, "the data"), exclusive(path, "the data"):
        pass
    holder = hold_elsewhere(path, 0)  # free again for anyone
    assert holder.wait() == 0


def test_a_killed_holder_keeps_no_lock(tmp_path):
    path = tmp_path / ".ee.lock"
    holder = hold_elsewhere(path, 60)
    holder.kill()
    holder.wait()
    with exclusive(path, "the data"):
        assert f"pid {os.getpid()}: " in path.read_text()


def test_a_forked_child_keeps_no_copy_of_the_lock(tmp_path):
    """A worker forked while the command holds the lock: once the command lets go, another
    process gets the lock although the worker still runs."""
    path = tmp_path / ".ee.lock"
    with exclusive(path, "the data"):
        child = os.fork()
        if child == 0:  # the worker: outlives its parent's hold
            try:
                time.sleep(5)
            finally:
                os._exit(0)
    try:
        holder = hold_elsewhere(path, 0)
        assert holder.wait() == 0
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)


@pytest.mark.parametrize("name", ["data/.ee.lock", "reports/.lock"])
def test_a_lock_planted_as_a_symlink_is_refused_and_its_target_kept(tmp_path, name):
    target = tmp_path / "precious.txt"
    target.write_text("a file someone cares about\n")
    path = tmp_path / name
    path.parent.mkdir()
    path.symlink_to(target)
    refused = pytest.raises(LockRefused, match="is a symbolic link .* not a lock file")
    with refused, exclusive(path, "the site"):
        pass
    assert target.read_text() == "a file someone cares about\n"
    dangling = tmp_path / "dangling"
    path.unlink()
    path.symlink_to(dangling)
    with pytest.raises(LockRefused, match="is a symbolic link"), exclusive(path, "the site"):
        pass
    assert not dangling.exists()


def test_ee_refuses_a_symlinked_data_lock_with_a_message(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    (data / ".ee.lock").symlink_to(target)
    env = {"EE_DATA_DIR": str(data), "EE_FEED": str(FEEDS / "small_feed.json")}
    result = run_ee("fetch", "--no-notebook", env=env)
    assert result.returncode == 1
    assert f"{data / '.ee.lock'} is a symbolic link" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_text() == "keep me" and not (data / "raw").exists()

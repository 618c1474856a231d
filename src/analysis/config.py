"""Where things live. Every path in the project comes from here, never from the working directory.

Defaults are the project's own folders; the ``EE_*`` environment variables (README, "The
``ee`` command", lists them) move them and set the feed, the fetch deadline, the size cap and
the site's address.

>>> from analysis import config
>>> config.raw_dir().name
'raw'
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from analysis.errors import SettingError

#: IRCC's JSON feed behind the "Express Entry rounds of invitations" page.
IRCC_FEED_URL = "https://www.canada.ca/content/dam/ircc/documents/json/ee_rounds_123_en.json"

#: Name of the Jupyter kernel registered for this project (``make lab`` and papermill use it).
KERNEL_NAME = "ee-draws"


def _find_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "analysis").is_dir():
            return parent
    # Installed without the source tree: fall back to the current directory's notion of a project.
    return Path.cwd()


PROJECT_ROOT = _find_root()


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def data_dir() -> Path:
    """Folder holding ``raw/`` and ``processed/``."""
    return _env_path("EE_DATA_DIR", PROJECT_ROOT / "data")


def raw_dir() -> Path:
    """Immutable feed snapshots and their manifest."""
    return data_dir() / "raw"


def processed_dir() -> Path:
    """Tidy tables made only from ``raw/``."""
    return data_dir() / "processed"


def runs_dir() -> Path:
    """Executed ingestion notebooks (run records)."""
    return data_dir() / "runs"


def reports_dir() -> Path:
    """The published site: one folder per month and an index page."""
    return _env_path("EE_REPORTS_DIR", PROJECT_ROOT / "reports")


def notebooks_dir() -> Path:
    """The notebooks the pipeline runs (``EE_NOTEBOOKS_DIR`` overrides, e.g. to try a variant)."""
    return _env_path("EE_NOTEBOOKS_DIR", PROJECT_ROOT / "notebooks")


def feed_source() -> str:
    """Where to retrieve the feed from: ``EE_FEED`` or IRCC's URL.

    A local path is made absolute (relative to the directory the command was started in), so
    notebooks, which run in ``notebooks/``, find the same file.
    """
    value = os.environ.get("EE_FEED") or IRCC_FEED_URL
    if "://" in value:
        return value
    return str(Path(value).expanduser().resolve())


#: Seconds a retrieval may take in all (``EE_FETCH_DEADLINE`` overrides), and at most: the
#: longest wait the platform's threads allow (beyond it, an OverflowError).
DEFAULT_FETCH_DEADLINE, MAX_FETCH_DEADLINE = 60.0, threading.TIMEOUT_MAX

#: The largest feed accepted (the real feed is about 0.6 MB and grows ~0.1 MB a year).
DEFAULT_MAX_FEED_BYTES = 20 * 1024 * 1024


def _setting(name: str) -> str:
    return os.environ.get(name, "").strip()


def _number(name: str, default, kind: type, unit: str, maximum, why: str = ""):
    """The number ``name`` holds (``kind``: int or float), from above 0 to ``maximum``."""
    value = _setting(name)
    if not value:
        return default
    try:
        number = kind(value) if value.isascii() else None
    except ValueError:
        number = None
    if number is None or not 0 < number <= maximum:  # NaN fails too
        raise SettingError(
            f"{name}={value!r} is not a number of {unit} above 0 and at most {int(maximum):,}"
            f"{why}; unset it for the default, {int(default):,}"
        )
    return number


def fetch_deadline() -> float:
    """Seconds a retrieval of the feed may take in all, retries included: ``EE_FETCH_DEADLINE``
    or :data:`DEFAULT_FETCH_DEADLINE`.

    >>> import os; os.environ["EE_FETCH_DEADLINE"] = "1e10"
    >>> fetch_deadline()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.SettingError: EE_FETCH_DEADLINE='1e10' is not a number of seconds above 0 ...
    >>> del os.environ["EE_FETCH_DEADLINE"]; fetch_deadline()
    60.0
    """
    why = " (the longest wait this platform allows)"
    return _number(
        "EE_FETCH_DEADLINE", DEFAULT_FETCH_DEADLINE, float, "seconds", MAX_FETCH_DEADLINE, why
    )


def max_feed_bytes() -> int:
    """The largest feed accepted, in bytes: ``EE_MAX_FEED_BYTES`` or 20 MB.

    >>> max_feed_bytes()
    20971520
    """
    return _number("EE_MAX_FEED_BYTES", DEFAULT_MAX_FEED_BYTES, int, "bytes", sys.maxsize)


def site_url() -> str | None:
    """Where the published site lives (``EE_SITE_URL``, e.g. ``https://you.github.io/ee-draws/``),
    used for the absolute links an Atom feed should carry; ``None`` when unset (the feed then
    uses links relative to itself). Must be an http(s) URL without spaces or control
    characters; a trailing ``/`` is added.

    >>> import os; os.environ["EE_SITE_URL"] = "https://me.example/ee draws"
    >>> site_url()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.SettingError: EE_SITE_URL 'https://me.example/ee draws' has a space or ...
    >>> del os.environ["EE_SITE_URL"]
    """
    value = _setting("EE_SITE_URL")
    if not value:
        return None
    example = "e.g. https://you.github.io/ee-draws/"
    if not value.startswith(("https://", "http://")):
        raise SettingError(f"EE_SITE_URL {value!r} must be an http(s) URL, {example}")
    bad = next((i for i, c in enumerate(value) if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise SettingError(
            f"EE_SITE_URL {value!r} has a space or control character at position {bad}: "
            f"write the address alone, {example}"
        )
    return value if value.endswith("/") else value + "/"


def check_settings() -> None:
    """Check every ``EE_*`` setting that has rules, before a command does any work: a bad one
    raises :class:`~analysis.errors.SettingError` (``ee`` exits 2) naming the variable."""
    fetch_deadline()
    max_feed_bytes()
    site_url()
    for name, folder in (("EE_DATA_DIR", data_dir()), ("EE_REPORTS_DIR", reports_dir())):
        _check_folder(name, folder)


def _check_folder(name: str, folder: Path) -> None:
    """A folder setting must name a folder (or a place one can be made): a file there, or a
    file in its path, raises :class:`~analysis.errors.SettingError` naming both."""
    for place in (folder, *folder.parents):
        if place.exists() or place.is_symlink():
            if place.is_dir():
                return
            where = "is a file" if place == folder else f"has a file in its path: {place}"
            raise SettingError(
                f"{name} {folder} {where}, not a folder: set {name} to a folder (it is "
                f"created if missing) or move the file away"
            )


def shared_snapshots_dir() -> Path:
    """Real IRCC snapshots for tests and development (never copied into the project)."""
    return _env_path("EE_SNAPSHOTS", PROJECT_ROOT.parent / "shared" / "data" / "ircc" / "snapshots")

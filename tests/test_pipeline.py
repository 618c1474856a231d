"""The monthly reports end to end: papermill runs on fixture data, escaping, self-containment,
determinism, incremental rebuilds and atomic publishing."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from markupsafe import escape

from analysis.publish import safety
from helpers import run_ee

pytestmark = pytest.mark.slow


def snapshot_of(site: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(site)): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def rebuild_all(env: dict):
    """Force a rebuild of every fixture month from the processed data, two at a time."""
    return run_ee("reports", "--since", "2023-07", "--force", "--no-fetch", "--jobs", "2", env=env)


def test_site_layout(published_site):
    _, site = published_site
    for month in ("2023-07", "2023-08"):
        for name in ("index.html", "summary.json", "report.ipynb", "inputs.json"):
            assert (site / month / name).is_file(), f"{month}/{name}"
    assert (site / "index.html").is_file()
    assert (site / "data-quality" / "index.html").is_file()
    assert not list(site.glob(".builds*")) and not list(site.glob(".*.new-*"))
    index = (site / "index.html").read_text()
    assert index.index('href="2023-08/index.html"') < index.index('href="2023-07/index.html"')
    assert 'href="data-quality/index.html"' in index


def test_month_with_stem_and_healthcare(published_site):
    _, site = published_site
    summary = json.loads((site / "2023-07" / "summary.json").read_text())
    stem = summary["categories"]["stem"]
    assert [(r["round"], r["invitations"], r["cutoff"]) for r in stem["rounds"]] == [
        ("255", 500, 486)
    ]
    gaps = stem["rounds"][0]["baselines"]
    assert gaps["latest"]["cutoff"] == 511 and gaps["latest"]["gap"] == -25
    assert set(gaps) == {"window", "latest", "pool"}
    assert summary["categories"]["healthcare"]["lowest_cutoff"] == 463
    assert summary["rounds"] == 5 and summary["to_date"] is False
    headline = summary["headline"]
    assert headline.startswith("In July 2023 IRCC held five rounds")
    assert "STEM: round 255 on July 5 invited 500 at a cutoff of 486" in headline
    assert "25 points below the latest all-program round" in headline
    html = (site / "2023-07" / "index.html").read_text()
    assert "In July 2023 IRCC held five rounds" in html


def test_month_without_stem_or_healthcare_says_so(published_site):
    _, site = published_site
    summary = json.loads((site / "2023-08" / "summary.json").read_text())
    assert summary["categories"]["stem"]["rounds"] == []
    assert (
        "There was no STEM round this month; the latest was round 255 on July 5, 2023"
        in summary["headline"]
    )
    assert "There was no Healthcare round this month" in summary["headline"]


def test_feed_markup_is_escaped_and_pages_are_self_contained(published_site):
    _, site = published_site
    for page in [
        site / "index.html",
        site / "data-quality" / "index.html",
        *site.glob("20*/index.html"),
    ]:
        html = page.read_text()
        assert safety.unsafe_markup(html) == [], page
        assert safety.external_references(html) == [], page
        assert safety.images_without_alt(html) == [], page
        assert "<script" not in html.lower(), page
    july = (site / "2023-07" / "index.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in july
    quality = (site / "data-quality" / "index.html").read_text()
    assert (
        "&lt;script&gt;alert(&#39;feed&#39;)&lt;/script&gt;" in quality
        or "&lt;script&gt;alert('feed')&lt;/script&gt;" in quality
    )


def test_nothing_changed_builds_nothing(published_site):
    env, site = published_site
    before = snapshot_of(site)
    result = run_ee("reports", "--since", "2023-07", env=env)
    assert result.returncode == 0, result.stderr
    assert "nothing changed" in result.stdout
    assert snapshot_of(site) == before


def test_rebuild_is_byte_identical(published_site):
    env, site = published_site
    before = snapshot_of(site)
    result = run_ee("report", "--month", "2023-07", "--force", "--no-fetch", env=env)
    assert result.returncode == 0, result.stderr
    after = snapshot_of(site)
    for name in ("2023-07/index.html", "2023-07/summary.json", "index.html"):
        assert after[name] == before[name], name


def test_bad_parameters_fail_before_any_analysis(published_site):
    env, _ = published_site
    for month, message in (("2023-13", "is not a month"), ("2031-01", "after the data ends")):
        result = run_ee("report", "--month", month, "--no-fetch", env=env)
        assert result.returncode == 2  # a bad argument (it was 1 before arguments were checked)
        assert message in result.stderr


def test_papermill_parameters_are_checked_in_the_notebook(published_site, tmp_path):
    env, _ = published_site
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            "notebooks/4.0-monthly-report.ipynb",
            str(tmp_path / "out.ipynb"),
            "-k",
            "ee-draws",
            "-r",
            "month",
            "2023-07",
            "-p",
            "categories",
            "['stem', 'astronauts']",
            "-p",
            "data_dir",
            env["EE_DATA_DIR"],
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
        timeout=300,
    )
    assert result.returncode != 0
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stderr + result.stdout)
    assert "ParameterError" in output and "'astronauts'; allowed: stem, healthcare" in output


def test_failing_notebook_leaves_the_published_site(published_site, tmp_path):
    env, site = published_site
    before = snapshot_of(site)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    book = nbformat.read(Path(__file__).parents[1] / "notebooks" / "4.0-monthly-report.ipynb", 4)
    book.cells.insert(5, nbformat.v4.new_code_cell("raise RuntimeError('figure 2 broke')"))
    nbformat.write(book, notebooks / "4.0-monthly-report.ipynb")
    result = rebuild_all({**env, "EE_NOTEBOOKS_DIR": str(notebooks)})
    assert result.returncode == 1
    assert re.search(r"\d+ months? failed; the published site is unchanged", result.stderr)
    assert "RuntimeError: figure 2 broke" in result.stderr
    assert "run record:" in result.stderr
    assert snapshot_of(site) == before
    assert not list(site.glob(".builds*"))


def test_unreadable_processed_data_is_a_clear_error(published_site, tmp_path):
    env, site = published_site
    before = snapshot_of(site)
    broken = tmp_path / "data"
    (broken / "processed").mkdir(parents=True)
    for item in Path(env["EE_DATA_DIR"], "processed").iterdir():
        (broken / "processed" / item.name).write_bytes(item.read_bytes())
    (broken / "processed" / "pool.parquet").write_bytes(b"not parquet")
    result = rebuild_all({**env, "EE_DATA_DIR": str(broken)})
    assert result.returncode == 1
    assert "pool.parquet" in result.stderr and "Traceback" not in result.stderr
    assert snapshot_of(site) == before


def test_interrupted_run_leaves_the_published_site(published_site):
    env, site = published_site
    before = snapshot_of(site)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "analysis",
            "reports",
            "--since",
            "2023-07",
            "--force",
            "--no-fetch",
            "--jobs",
            "2",
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    line = process.stdout.readline()
    assert "building" in line
    time.sleep(1.5)  # inside the notebooks
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    _, err = process.communicate(timeout=120)
    assert process.returncode != 0
    assert "interrupted" in err
    assert snapshot_of(site) == before


def test_index_shows_each_months_one_line_teaser(published_site):
    _, site = published_site
    july = json.loads((site / "2023-07" / "summary.json").read_text())
    assert july["teaser"].startswith("Five rounds, ")
    assert "STEM 486 (" in july["teaser"] and "−25 vs last all-program" in july["teaser"]
    august = json.loads((site / "2023-08" / "summary.json").read_text())
    # a month without STEM or healthcare rounds leads with the rounds it had, then says where
    # STEM and healthcare stand (the standing table's verdicts), not "No STEM round"
    first = august["teaser"].split(". ")[0]
    assert " round" in first and first.endswith("invitations")
    assert "No STEM round" not in august["teaser"]
    verdict = {row["family"]: row["Verdict"] for row in august["standing"]}
    assert (
        f"Where things stand: STEM {verdict['stem']}; Healthcare {verdict['healthcare']}."
        in august["teaser"]
    )
    index = (site / "index.html").read_text()
    assert "−25 vs last all-program" in index
    assert str(escape(august["teaser"])) in index


# ------------------------------------------------------------------ issue 16: fresh months


def test_every_page_says_when_the_feed_was_checked_and_the_newest_round(published_site):
    from analysis.data import load_inputs
    from analysis.publish import freshness

    env, site = published_site
    line = freshness.inputs_line(load_inputs(Path(env["EE_DATA_DIR"])))
    assert line.startswith("Feed checked ") and " UTC, newest round " in line
    pages = [p for p in site.rglob("*.html") if not p.relative_to(site).parts[0].startswith(".")]
    assert len(pages) >= 5  # the index, two months, the data-quality and family pages
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert html.count(f'<p class="{freshness.CLASS}">{line}</p>') == 1, page


def test_a_revised_round_of_an_earlier_month_rebuilds_that_month(published_site, tmp_path):
    """`ee report` builds the newest month, and every other published month whose inputs
    changed: IRCC's revision of a July round reaches July's page."""
    env, site = published_site
    copy = {
        "EE_DATA_DIR": str(tmp_path / "data"),
        "EE_REPORTS_DIR": str(tmp_path / "site"),
        "EE_FEED": str(tmp_path / "feed.json"),
    }
    shutil.copytree(env["EE_DATA_DIR"], copy["EE_DATA_DIR"], symlinks=True)
    shutil.copytree(site, copy["EE_REPORTS_DIR"], symlinks=True)
    feed = json.loads(Path(env["EE_FEED"]).read_text(encoding="utf-8"))
    july = next(r for r in feed["rounds"] if r["drawDate"].startswith("2023-07"))
    july["drawSize"] = "1,234"  # IRCC corrects a July round's invitations
    Path(copy["EE_FEED"]).write_text(json.dumps(feed), encoding="utf-8")

    result = run_ee("report", "--json", env=copy)
    assert result.returncode == 0, result.stderr
    build = next(s for s in json.loads(result.stdout)["steps"] if s["step"] == "build")
    assert build["months"] == ["2023-08"]  # the newest month, as asked
    assert build["reasons"].get("2023-07") == "inputs changed"
    page = (tmp_path / "site" / "2023-07" / "index.html").read_text(encoding="utf-8")
    assert "1,234" in page
    again = run_ee("report", "--json", "--no-fetch", env=copy)
    assert json.loads(again.stdout)["steps"][-1]["built"] == {}  # nothing stale is left


# ---------------------------------------------------------------------------------------------
# the site changes all at once: months, index, feeds, family, reader and data-quality pages
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def site_copy(published_site, tmp_path, monkeypatch):
    """A copy of the published fixture site and its data, for in-process builds whose months
    are copied from the published ones with a new headline (no notebook runs)."""
    from analysis.pipeline import build

    env, site = published_site
    data, copy = tmp_path / "data", tmp_path / "site"
    shutil.copytree(env["EE_DATA_DIR"], data)
    shutil.copytree(site, copy)
    monkeypatch.setenv("EE_DATA_DIR", str(data))
    monkeypatch.setenv("EE_REPORTS_DIR", str(copy))
    monkeypatch.setenv("EE_FEED", env["EE_FEED"])
    monkeypatch.delenv("EE_SITE_URL", raising=False)

    def copied_months(plans, staging, jobs, progress):
        for plan in plans:
            shutil.copytree(copy / plan.month, staging / plan.month)
            summary = staging / plan.month / "summary.json"
            fields = json.loads(summary.read_text(encoding="utf-8"))
            summary.write_text(
                json.dumps({**fields, "headline": "Rebuilt headline", "teaser": "Rebuilt headline"})
            )
        return {plan.month: 0.0 for plan in plans}

    monkeypatch.setattr(build, "_build_all", copied_months)
    return copy


def no_space(*args, **kwargs):
    raise OSError(28, "No space left on device")


def fail_family_pages(monkeypatch):
    from analysis.pipeline import build
    from analysis.publish import families

    real = build._site_fingerprint
    monkeypatch.setattr(build, "_site_fingerprint", lambda inputs, code: real(inputs, code) + "+")
    monkeypatch.setattr(families, "prepare_families", no_space)  # disk full while drawing them


def fail_feed(monkeypatch):
    from analysis.publish import atom

    monkeypatch.setattr(atom, "write_feed", no_space)


def bad_site_url(monkeypatch):
    monkeypatch.setenv("EE_SITE_URL", "me.example/ee")


@pytest.mark.parametrize("fault", [fail_family_pages, fail_feed, bad_site_url])
def test_a_failure_after_the_months_are_built_leaves_every_published_file(
    site_copy, monkeypatch, fault
):
    from analysis.pipeline import build

    before = snapshot_of(site_copy)
    fault(monkeypatch)
    with pytest.raises((OSError, ValueError)):
        build.build_reports(["2023-08"], force=True)
    assert snapshot_of(site_copy) == before  # months, index, feed.xml, family pages: all
    assert sorted(p.name for p in site_copy.parent.iterdir()) == ["data", "site"]  # no shadow
    assert not list(site_copy.glob(".builds*"))


def test_a_successful_build_publishes_the_months_with_index_and_feed_and_a_quiet_run_stages_nothing(
    site_copy, monkeypatch
):
    from analysis.pipeline import build
    from analysis.publish import swap

    before = snapshot_of(site_copy)
    result = build.build_reports(["2023-08"], force=True)
    assert list(result["built"]) == ["2023-08"]
    after = snapshot_of(site_copy)
    assert "Rebuilt headline" in after["2023-08/summary.json"].decode()
    assert "Rebuilt headline" in after["index.html"].decode()
    assert "Rebuilt headline" in after["feed.xml"].decode()
    assert after.keys() == before.keys()
    assert sorted(p.name for p in site_copy.parent.iterdir()) == ["data", "site"]

    def no_staging(*args, **kwargs):
        raise AssertionError("a run where nothing changed staged the site")

    monkeypatch.setattr(swap, "publish_site", no_staging)
    result = build.build_reports(["2023-08"])
    assert result["built"] == {} and result["skipped"] == ["2023-08"]
    assert snapshot_of(site_copy) == after

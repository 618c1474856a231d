"""Issue 17, item 12: the publishing workflow. Actions pinned to commits, the least permissions
per job, no write token where third-party code installs, and the retrieved snapshots kept even
when a later step fails. (`make lint` runs actionlint on it.)"""

from __future__ import annotations

import re

import pytest
import yaml

from analysis import config

WORKFLOW = config.PROJECT_ROOT / ".github" / "workflows" / "monthly-report.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(workflow, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def test_every_action_is_pinned_to_a_commit_with_its_release_in_a_comment(workflow):
    text = WORKFLOW.read_text()
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for action, rest in uses:
        assert PINNED.match(action), action
        assert re.search(r"#\s*v\d+\.\d+\.\d+", rest), f"{action}: no release comment"


def test_least_permissions_per_job(workflow):
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["keep"]["permissions"] == {"contents": "write"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_no_write_token_where_third_party_code_installs(workflow):
    build = steps(workflow, "build")
    assert any("make" in (s.get("run") or "") for s in build)  # the job that installs and runs
    for step in build:
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
    keep = steps(workflow, "keep")
    assert not any("make" in (s.get("run") or "") or "pip" in (s.get("run") or "") for s in keep)
    with_token = [s["name"] for s in keep if "github.token" in str(s.get("env", {}))]
    assert with_token == ["Keep the snapshots (and the site) on the data branch"]
    assert "git push" not in "".join(s.get("run") or "" for s in build)


def test_the_retrieved_snapshots_are_kept_when_a_later_step_fails(workflow):
    kept = [s for s in steps(workflow, "build") if s.get("with", {}).get("name") == "raw"]
    assert kept and kept[0]["if"] == "always()" and kept[0]["with"]["path"] == "data/raw"
    assert workflow["jobs"]["keep"]["if"] == "always()"
    site = next(s for s in steps(workflow, "keep") if s.get("with", {}).get("name") == "site")
    # never a half-built site (and only when more than the feed-check time changed)
    assert site["if"].split(" && ")[0] == "needs.build.result == 'success'"
    push = steps(workflow, "keep")[-1]["run"]
    assert "cp -a ../raw/. raw/" in push  # snapshots only ever added


# ------------------------------------------------------------------ issue 16, items 5 to 7, 12


def test_checked_hourly_on_weekdays(workflow):
    crons = [entry["cron"] for entry in workflow[True]["schedule"]]  # yaml reads `on` as True
    hourly = [c for c in crons if c.split()[1] == "*"]
    assert hourly, crons
    minute, hour, day, month, weekdays = hourly[0].split()
    assert minute.isdigit() and (day, month) == ("*", "*")
    assert weekdays in ("1-5", "*"), "every weekday, at least"


def test_every_run_rebuilds_the_stale_months_and_the_first_run_backfills(workflow):
    build = "".join(s.get("run") or "" for s in steps(workflow, "build"))
    assert "ee report --json" in build  # every month whose inputs changed: see plan_months
    assert "ee reports --since 2023-06" in build
    assert "if [ -f reports/index.html ]" in build  # the backfill only without a site


def test_a_fallback_fails_the_run_after_publishing(workflow):
    build = steps(workflow, "build")
    check = next(s for s in build if s.get("id") == "retrieval")
    assert '"fallback"' in check["run"]  # the fetch step's detail (pipeline.steps.fetch_step)
    job = workflow["jobs"]["retrieval"]
    assert set(job["needs"]) == {"build", "keep", "deploy"}  # after publishing and keeping
    assert job["if"] == "always() && needs.build.outputs.fallback != ''"
    assert "exit 1" in job["steps"][-1]["run"]


def test_a_failed_deploy_is_retried_by_the_next_run(workflow):
    diff = next(s for s in steps(workflow, "build") if s.get("id") == "diff")["run"]
    assert "deployed.sha256" in diff  # compared with what was deployed, not with the last build
    keep = workflow["jobs"]["keep"]
    assert "deploy" in keep["needs"]
    push = keep["steps"][-1]
    assert "needs.deploy.result == 'success'" in push["env"]["DEPLOYED"]
    assert "deployed.sha256" in push["run"]


def test_the_readme_says_how_to_run_it_in_a_fork():
    readme = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "enable" in readme and "fork" in readme
    assert "deployed.sha256" in readme

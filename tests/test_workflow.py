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
    assert site["if"] == "needs.build.result == 'success'"  # never a half-built site
    push = steps(workflow, "keep")[-1]["run"]
    assert "cp -a ../raw/. raw/" in push  # snapshots only ever added

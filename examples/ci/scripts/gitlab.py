#!/usr/bin/env python3
"""GitLab API steps of .gitlab-ci.yml (standard library only, so any Python image runs it).

    gitlab.py note BODY          post BODY on the merge request, or update the note posted
                                 before (found by the marker on BODY's first line)
    gitlab.py fetch-plan DIR     on the default branch after a merge: download the plan.json
                                 that the merged merge request's last successful pipeline saved
                                 for its head commit, into DIR (the reviewed plan, nothing newer)

Reads CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID and CI_COMMIT_SHA, which GitLab sets,
and ITWIN_ACCESS_GITLAB_TOKEN: a project access token with the `api` scope (the job token can
neither write notes nor list pipelines).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

PLAN_JOB = "itwin-access-plan"


def _call(method: str, path: str, body: dict[str, str] | None = None) -> Any:
    url = f"{os.environ['CI_API_V4_URL']}/projects/{os.environ['CI_PROJECT_ID']}{path}"
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "PRIVATE-TOKEN": os.environ["ITWIN_ACCESS_GITLAB_TOKEN"],
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        data = response.read()
    if path.endswith("/plan.json"):
        return data
    return json.loads(data) if data else None


def note(body_file: str) -> None:
    body = Path(body_file).read_text(encoding="utf-8")
    marker = body.splitlines()[0]
    notes = f"/merge_requests/{os.environ['CI_MERGE_REQUEST_IID']}/notes"
    for page in range(1, 100):
        found = _call("GET", f"{notes}?per_page=100&page={page}")
        for existing in found:
            if existing["body"].startswith(marker):
                _call("PUT", f"{notes}/{existing['id']}", {"body": body})
                print(f"updated note {existing['id']}")
                return
        if len(found) < 100:
            break
    _call("POST", notes, {"body": body})
    print("posted a note")


def fetch_plan(target: str) -> None:
    merged = _call("GET", f"/repository/commits/{os.environ['CI_COMMIT_SHA']}/merge_requests")
    merged = [mr for mr in merged if mr["state"] == "merged"]
    if not merged:
        sys.exit(f"no merged merge request for {os.environ['CI_COMMIT_SHA']}: nothing reviewed")
    mr = merged[0]
    pipelines = _call("GET", f"/merge_requests/{mr['iid']}/pipelines")
    reviewed = [p for p in pipelines if p["sha"] == mr["sha"] and p["status"] == "success"]
    if not reviewed:
        sys.exit(f"merge request !{mr['iid']}: no successful plan for {mr['sha']}")
    jobs = _call("GET", f"/pipelines/{reviewed[0]['id']}/jobs?scope[]=success")
    job = next((j for j in jobs if j["name"] == PLAN_JOB), None)
    if job is None:
        sys.exit(f"pipeline {reviewed[0]['id']} has no successful {PLAN_JOB} job")
    plan = _call("GET", f"/jobs/{job['id']}/artifacts/itwin-access-out/plan.json")
    Path(target).mkdir(parents=True, exist_ok=True)
    Path(target, "plan.json").write_bytes(plan)
    print(f"fetched the plan of merge request !{mr['iid']} (job {job['id']})")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("note", "fetch-plan"):
        sys.exit(__doc__)
    (note if sys.argv[1] == "note" else fetch_plan)(sys.argv[2])

#!/usr/bin/env bash
# Merge: apply exactly the reviewed plan, never a new one.
#
#   apply.sh PLAN MANIFESTS [OUT]
#
# PLAN is the plan.json plan.sh saved for the merged change. itwin-access refuses it, naming the
# projects, when live state moved since it was made (plan again and review), and checks the
# guards again: pass the same ITWIN_ACCESS_ALLOW the reviewed plan was made with. The config is
# MANIFESTS/itwin-access.yaml when it exists. Writes the journal (one JSON line per operation)
# to OUT/apply.jsonl. Exits with itwin-access's code: 0 done, 3 blocked, 4 partly applied
# (run it again), 1 error or refused.
set -euo pipefail
plan=${1:?usage: apply.sh PLAN MANIFESTS [OUT]}
manifests=${2:?usage: apply.sh PLAN MANIFESTS [OUT]}
out=${3:-itwin-access-out}
mkdir -p "$out"
args=(--plan "$plan" --auto-approve --no-progress --no-color --journal "$out/apply.jsonl")
if [ -f "$manifests/itwin-access.yaml" ]; then
  args+=(--config "$manifests/itwin-access.yaml")
fi
for guard in ${ITWIN_ACCESS_ALLOW:-}; do args+=(--allow "$guard"); done
exec itwin-access apply "${args[@]}"

#!/usr/bin/env bash
# Merge: apply exactly the reviewed plan, never a new one.
#
#   apply.sh PLAN MANIFESTS [OUT]
#
# PLAN is the plan.json plan.sh saved for the merged change. itwin-access applies it to the
# target it was made against, refuses it when the operations recomputed on live state now differ
# (naming what moved; plan again and review), and checks the guards again with the allowances
# the plan recorded: ITWIN_ACCESS_ALLOW may repeat them; one it did not record is refused. The
# config is MANIFESTS/itwin-access.yaml when it exists. Writes the journal (one JSON line per
# operation) to OUT/apply.jsonl. Exits with itwin-access's code: 0 done, 3 blocked, 4 partly
# applied (run it again), 1 error or refused, 143 cancelled (SIGTERM; in-flight work journaled).
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

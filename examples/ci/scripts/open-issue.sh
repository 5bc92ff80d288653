#!/usr/bin/env bash
# GitHub: keep one open drift issue. On drift (OUT/exit-code 2) open it or update its body; with
# no drift (0) close it if it is open. The issue carries the label itwin-access-drift.
#
#   open-issue.sh [OUT]                   (GH_TOKEN and GH_REPO set, as in Actions)
set -euo pipefail
out=${1:-itwin-access-out}
code=$(cat "$out/exit-code")
label=itwin-access-drift
existing=$(gh issue list --label "$label" --state open --json number --jq '.[0].number // empty')
if [ "$code" = 2 ]; then
  if [ -n "$existing" ]; then
    gh issue edit "$existing" --body-file "$out/drift.md" >/dev/null
    echo "updated issue #$existing"
  else
    gh label create "$label" --force --description "Access changed outside the manifests" >/dev/null
    gh issue create --title "iTwin access drift" --label "$label" --body-file "$out/drift.md"
  fi
elif [ "$code" = 0 ] && [ -n "$existing" ]; then
  gh issue close "$existing" --comment "No drift any more: live state matches the manifests."
fi

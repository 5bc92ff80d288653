#!/usr/bin/env bash
# Pull request: plan the manifests, save the plan for the apply on merge, write the comment.
#
#   plan.sh MANIFESTS [OUT]         (OUT defaults to itwin-access-out)
#
# Writes OUT/plan.json (the saved plan: keep it as an artifact, apply.sh applies exactly it),
# OUT/comment.md (the comment; its first line is the marker that lets post-comment.sh update
# one comment in place) and OUT/exit-code (the plan's: 0 no changes, 2 changes, 3 blocked by a
# guard, 1 error). Guards to lift: ITWIN_ACCESS_ALLOW="member-removals role-deletions".
# Exits 0 whatever the plan says, so that the comment is posted; check.sh fails the job after.
set -uo pipefail
manifests=${1:?usage: plan.sh MANIFESTS [OUT]}
out=${2:-itwin-access-out}
mkdir -p "$out"
args=(--format markdown --detailed-exitcode --no-progress --no-color --out "$out/plan.json")
for guard in ${ITWIN_ACCESS_ALLOW:-}; do args+=(--allow "$guard"); done

itwin-access plan "$manifests" "${args[@]}" >"$out/plan.md" 2>"$out/plan.err"
code=$?
echo "$code" >"$out/exit-code"
cat "$out/plan.err" >&2

{
  echo "<!-- itwin-access-plan -->"
  case $code in
    0 | 2 | 3) cat "$out/plan.md" ;;
    *)
      echo "### itwin-access plan failed (exit $code)"
      echo
      echo '```'
      cat "$out/plan.err"
      echo '```'
      ;;
  esac
} >"$out/comment.md"
exit 0

#!/usr/bin/env bash
# Schedule: check for drift; write the issue body, and with --write the manifest edits.
#
#   drift.sh MANIFESTS [OUT] [--write]
#
# Writes OUT/drift.md (the issue body; its first line is the marker that lets open-issue.sh
# find and update one issue) and OUT/exit-code (0 no drift, 2 drift, 1 error). With --write,
# the manifests under MANIFESTS are edited in place to adopt the live state, ready to commit
# for a pull request. Exits 0 on drift or none, 1 on an error.
set -uo pipefail
manifests=${1:?usage: drift.sh MANIFESTS [OUT] [--write]}
out=${2:-itwin-access-out}
write=${3:-}
mkdir -p "$out"
args=(--format markdown --no-progress --no-color)
if [ "$write" = "--write" ]; then args+=(--write "$manifests"); fi

itwin-access drift "$manifests" "${args[@]}" >"$out/drift.md.tmp" 2>"$out/drift.err"
code=$?
echo "$code" >"$out/exit-code"
cat "$out/drift.err" >&2
{
  echo "<!-- itwin-access-drift -->"
  cat "$out/drift.md.tmp"
} >"$out/drift.md"
rm -f "$out/drift.md.tmp"
case $code in
  0 | 2) exit 0 ;;
  *) exit 1 ;;
esac

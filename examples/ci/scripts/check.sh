#!/usr/bin/env bash
# Fail the job when the plan or drift check recorded in OUT/exit-code failed.
#
#   check.sh [OUT]
#
# 0 (nothing to do) and 2 (changes, or drift) pass; 3 (a guard blocked the plan: lift it with
# ITWIN_ACCESS_ALLOW after review) and 1 (an error) fail.
set -euo pipefail
out=${1:-itwin-access-out}
code=$(cat "$out/exit-code")
case $code in
  0 | 2) exit 0 ;;
  3) echo "itwin-access: a guard blocked the plan (see the comment)" >&2; exit 3 ;;
  *) echo "itwin-access: failed with exit $code (see the log above)" >&2; exit 1 ;;
esac

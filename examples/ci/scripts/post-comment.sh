#!/usr/bin/env bash
# GitHub: post BODY as the pull request's plan comment, or update the one posted before (found by
# the marker on BODY's first line), so a pull request carries one plan comment, the latest.
#
#   post-comment.sh PR_NUMBER BODY        (GH_TOKEN and GH_REPO set, as in Actions)
#
# GitHub caps a comment at 65,536 characters; itwin-access keeps a plan comment under 60,000
# and points at the plan artifact beyond that.
set -euo pipefail
pr=${1:?usage: post-comment.sh PR_NUMBER BODY}
body=${2:?usage: post-comment.sh PR_NUMBER BODY}
marker=$(head -n 1 "$body")
existing=$(gh api "repos/{owner}/{repo}/issues/$pr/comments" --paginate \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/{owner}/{repo}/issues/comments/$existing" -F "body=@$body" >/dev/null
  echo "updated comment $existing"
else
  gh api --method POST "repos/{owner}/{repo}/issues/$pr/comments" -F "body=@$body" >/dev/null
  echo "posted a comment"
fi

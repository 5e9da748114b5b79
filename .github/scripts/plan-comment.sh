#!/usr/bin/env bash
# Markdown for the pull request comment: per stack, the offline plan's diff from the base branch to the head
# and the policy pack's findings on the head. Each stack's diff is cut at 15,000 characters.
# Usage: plan-comment.sh <base-dir> <head-dir>
set -uo pipefail
base="$1"
head="$2"
limit=15000
echo "## Offline plan (no cloud access; \`npm run plan -- <stack>\`)"
echo
for plan in "$head"/*.txt; do
  name="$(basename "$plan" .txt)"
  case "$name" in *.policy) continue ;; esac
  echo "### Stack \`$name\`"
  echo
  if [ ! -f "$base/$name.txt" ]; then
    echo "New stack (no plan on the base branch)."
  fi
  diff_text="$(diff -u --label "base/$name" --label "head/$name" "$base/$name.txt" "$plan" 2>/dev/null || true)"
  if [ -z "$diff_text" ] && [ -f "$base/$name.txt" ]; then
    echo "No change to the plan."
  else
    changed="$(printf '%s\n' "$diff_text" | grep -c '^[-+][^-+]' || true)"
    echo "<details><summary>Plan diff: $changed lines changed</summary>"
    echo
    echo '```diff'
    printf '%s\n' "$diff_text" | head -c "$limit"
    if [ "${#diff_text}" -gt "$limit" ]; then
      echo
      echo "... cut at $limit characters; the full plans are in the workflow run's offline-plan artifact"
    fi
    echo '```'
    echo "</details>"
  fi
  echo
  if [ -f "$head/$name.policy.txt" ]; then
    if [ "$(cat "$head/$name.policy.status")" = "0" ]; then
      echo "Policy pack: $(tail -n 1 "$head/$name.policy.txt")"
    else
      echo "**Policy pack: $(tail -n 1 "$head/$name.policy.txt")**"
      echo
      echo '```'
      head -c "$limit" "$head/$name.policy.txt"
      echo '```'
    fi
    echo
  fi
done

#!/usr/bin/env bash
# Markdown for the pull request comment: per stack, `npm run plan -- diff` of the offline JSON plans from the
# base branch to the head (who gains or loses which access first, then the resources added, removed and
# changed) and the policy pack's findings on the head. The stacks share a 58,000-character budget (a GitHub
# comment holds 65,536); each diff cuts its resource section first and says what it left out.
# Run from the head checkout (it uses the head's plan tool). Usage: plan-comment.sh <base-dir> <head-dir>
set -uo pipefail
shopt -s nullglob
base="$1"
head="$2"
plans=("$head"/*.json)
per_stack=$(( 58000 / (${#plans[@]} > 0 ? ${#plans[@]} : 1) ))
if [ "$per_stack" -lt 1000 ]; then per_stack=1000; fi
status_of() { if [ -f "$1" ]; then cat "$1"; else echo 0; fi; }
echo "## Offline plan: who gains or loses which access (no cloud access; \`npm run plan -- <stack> --json\`)"
echo
for plan in "${plans[@]}"; do
  name="$(basename "$plan" .json)"
  head_status="$(status_of "$head/$name.status")"
  if [ "$head_status" != "0" ]; then
    echo "### Offline plan: stack \`$name\`"
    echo
    echo "**The offline plan of the head fails (exit $head_status):**"
    echo
    echo '```'
    head -c 4000 "$head/$name.err" 2>/dev/null
    echo '```'
  elif [ ! -s "$base/$name.json" ] || [ "$(status_of "$base/$name.status")" != "0" ]; then
    echo "### Offline plan: stack \`$name\`"
    echo
    echo "New stack, or no plan on the base branch: nothing to compare with."
  elif diff_text="$(npm run --silent plan -- diff "$base/$name.json" "$plan" --max-chars "$per_stack" 2>&1)"; then
    printf '%s\n' "$diff_text"
  else
    echo "### Offline plan: stack \`$name\`"
    echo
    echo "Could not compare with the base branch's plan (made by an older plan tool?):"
    echo
    echo '```'
    printf '%s\n' "$diff_text" | head -c 2000
    echo '```'
  fi
  echo
  if [ -f "$head/$name.policy.txt" ]; then
    if [ "$(cat "$head/$name.policy.status")" = "0" ]; then
      echo "Policy pack: $(tail -n 1 "$head/$name.policy.txt")"
    else
      echo "**Policy pack: $(tail -n 1 "$head/$name.policy.txt")**"
      echo
      echo '```'
      head -c 4000 "$head/$name.policy.txt"
      echo '```'
    fi
    echo
  fi
done

#!/usr/bin/env bash
# Writes the offline JSON plan of every stack of the current checkout to <out>/<stack>.json (its exit code to
# <out>/<stack>.status, its stderr to <out>/<stack>.err); with --policy also the policy pack's report to
# <out>/<stack>.policy.txt (and .policy.status).
# Usage: offline-plans.sh <out> [--policy]
set -uo pipefail
shopt -s nullglob
out="$1"
policy="${2:-}"
mkdir -p "$out"
for file in Pulumi.*.yaml; do
  stack="${file#Pulumi.}"
  stack="${stack%.yaml}"
  npm run --silent plan -- "$stack" --json > "$out/$stack.json" 2> "$out/$stack.err"
  echo "$?" > "$out/$stack.status"
  if [ "$policy" = "--policy" ]; then
    npm run --silent plan -- "$stack" --policy > "$out/$stack.policy.txt" 2>&1
    echo "$?" > "$out/$stack.policy.status"
  fi
done

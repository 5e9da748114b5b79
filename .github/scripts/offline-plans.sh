#!/usr/bin/env bash
# Writes the offline plan of every stack of the current checkout to <out>/<stack>.txt (and its exit code to
# <out>/<stack>.status); with --policy also the policy pack's report to <out>/<stack>.policy.txt.
# Usage: offline-plans.sh <out> [--policy]
set -uo pipefail
shopt -s nullglob
out="$1"
policy="${2:-}"
mkdir -p "$out"
for file in Pulumi.*.yaml; do
  stack="${file#Pulumi.}"
  stack="${stack%.yaml}"
  npm run --silent plan -- "$stack" > "$out/$stack.txt" 2>&1
  echo "$?" > "$out/$stack.status"
  if [ "$policy" = "--policy" ]; then
    npm run --silent plan -- "$stack" --policy > "$out/$stack.policy.txt" 2>&1
    echo "$?" > "$out/$stack.policy.status"
  fi
done

#!/bin/sh
# demo: show dosnap at work on examples/schedule (the flow against the mock joins this later).
set -eu
B=${B:-build}
bin="$B/dosnap"
now=2026-11-26T02:30:00Z

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "dosnap check -f examples/schedule"
"$bin" check -f examples/schedule --now "$now"

step "dosnap next -f examples/schedule -n 6 --from $now"
"$bin" next -f examples/schedule -n 6 --from "$now"

step "dosnap run --dry-run -f examples/schedule --now $now"
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
"$bin" run --dry-run -f examples/schedule --state-dir "$state" --now "$now"

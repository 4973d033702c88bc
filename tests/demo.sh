#!/bin/sh
# demo: run examples/schedule against dosnap-mock's demo droplets, show the flow and the snapshots.
set -eu
B=${B:-build}
# DOSNAP_WRAP runs every dosnap under a tool (make check-valgrind: memcheck).
wrap=${DOSNAP_WRAP:-}
bin="$B/dosnap"
mock="$B/dosnap-mock"
scale=0.05	# the mock's clock and dosnap's waits run 20 times fast

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

work=$(mktemp -d)
mock_pid=
cleanup() {
	[ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

printf 'demo-token-%s\n' "$$" >"$work/token"
chmod 600 "$work/token"

step "starting dosnap-mock with the demo droplets (mock/fixtures/demo.json)"
"$mock" --listen 127.0.0.1:0 --port-file "$work/port" --token "$(cat "$work/token")" \
	--fixture mock/fixtures/demo.json --time-scale "$scale" \
	--action-time shutdown=20s --action-time snapshot=60s --action-time power_on=20s \
	>"$work/mock.log" 2>&1 &
mock_pid=$!
i=0
while [ ! -s "$work/port" ]; do
	i=$((i + 1))
	[ "$i" -gt 100 ] && { echo "demo: the mock did not start:"; cat "$work/mock.log"; exit 1; }
	sleep 0.05
done
api="http://127.0.0.1:$(cat "$work/port")"
echo "mock listening on $api"
common="-f examples/schedule --state-dir $work/state --api-url $api --token-file $work/token"

step "dosnap check: the schedule and each entry's next fire time"
$wrap "$bin" check $common --now 2026-11-26T00:00:00Z

step "dosnap run at 03:30 Berlin time: tag:web is due (power off, snapshot, power on)"
$wrap "$bin" run $common --time-scale "$scale" --now 2026-11-26T02:30:10Z

step "dosnap run at 04:15 Berlin time on a Thursday: db-primary and its volume"
$wrap "$bin" run $common --time-scale "$scale" --now 2026-11-26T03:15:10Z

step "dosnap run again in the same minute: nothing is due, nothing is done"
$wrap "$bin" run $common --time-scale "$scale" --now 2026-11-26T03:15:40Z -v

step "dosnap list: the snapshots (the backup and the hand-made ones are untouched)"
$wrap "$bin" list --api-url "$api" --token-file "$work/token"

printf '\nNo account, no token of yours: that was dosnap-mock.  Try: %s --help\n' "$bin"

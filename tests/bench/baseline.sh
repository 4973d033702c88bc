#!/bin/sh
# baseline: snapshot droplets the way cron scripts do it, one after another, polling every 10 s.
#
# Usage: baseline.sh API_URL TOKEN_FILE TIME_SCALE DROPLET_ID...
#
# For each droplet in turn: POST shutdown, GET the droplet every 10 s until it
# is off, POST snapshot, GET the action every 10 s until it completed, POST
# power_on, GET the droplet every 10 s until it is active.  The 10 s are
# multiplied by TIME_SCALE, the same scale dosnap-mock runs at, so that the
# bench can compare it with dosnap in the same run.  curl and sed only, like
# the scripts it stands for; it stops at the first thing it does not expect.
set -eu

[ $# -ge 4 ] || { echo "usage: baseline.sh API_URL TOKEN_FILE TIME_SCALE DROPLET_ID..." >&2; exit 64; }
api=$1
token=$(cat "$2")
interval=$(awk -v s="$3" 'BEGIN { printf "%.3f", 10 * s }')
shift 3

# The first "status" in a droplet or action object is its own.
status_of() {
	grep -o '"status":"[a-z-]*"' | head -n 1 | cut -d'"' -f4
}

get() {
	curl -sS -f -H "Authorization: Bearer $token" "$api$1"
}

post_action() {
	curl -sS -f -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		-d "$2" "$api/v2/droplets/$1/actions"
}

# wait_for PATH STATUS: poll PATH every interval until its status is STATUS.
wait_for() {
	while :; do
		sleep "$interval"
		s=$(get "$1" | status_of)
		[ "$s" = "$2" ] && return 0
		case $s in
		errored) echo "baseline: $1 errored" >&2; exit 1 ;;
		esac
	done
}

for id in "$@"; do
	post_action "$id" '{"type":"shutdown"}' >/dev/null
	wait_for "/v2/droplets/$id" off
	action=$(post_action "$id" "{\"type\":\"snapshot\",\"name\":\"cron-$id-$(date +%Y%m%d%H%M)\"}" |
		sed -n 's/^{"action":{"id":\([0-9]*\).*/\1/p')
	[ -n "$action" ] || { echo "baseline: no action id for droplet $id" >&2; exit 1; }
	wait_for "/v2/actions/$action" completed
	post_action "$id" '{"type":"power_on"}' >/dev/null
	wait_for "/v2/droplets/$id" active
done

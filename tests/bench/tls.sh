#!/bin/sh
# tls: `make bench`'s row for the production transport: the 100-droplet flow over TLS and HTTP/2 against plain HTTP.
#
# Usage: tests/bench/tls.sh [OUT]
#
# Runs `dosnap snapshot --jobs N` on N fresh droplets twice per round: once
# over plain HTTP/1.1 straight to dosnap-mock, once through nghttpx (TLS and
# HTTP/2, a throw-away certificate made here with openssl) before the same
# kind of mock.  Prints key=value lines (tls_*) on stdout and, with OUT, writes
# a Markdown section there for the report.  B is the build directory
# (default build/bench); BENCH_SMOKE=1 runs 10 droplets once.  Without
# nghttpx or openssl it says so, prints tls_skipped=..., and exits 0; under
# CI=true it fails instead.
set -eu

B=${B:-build/bench}
out=${1:-}
dosnap=$B/dosnap
mock=$B/dosnap-mock
if [ "${BENCH_SMOKE:-0}" = 1 ]; then n=10 reps=1; else n=100 reps=3; fi
scale=0.02
actions="--action-time shutdown=2s --action-time snapshot=5s --action-time power_on=2s"

say() { printf 'bench: tls: %s\n' "$*" >&2; }
PATH=$PATH:/usr/sbin:/usr/local/sbin
for t in nghttpx openssl python3; do
	if ! command -v $t >/dev/null 2>&1; then
		# CI installs them: there, a missing row is a failure, not a note.
		[ "${CI:-}" = true ] && { say "$t is not installed, and CI=true (ci/install-deps --tools)"; exit 1; }
		say "SKIPPED: $t is not installed (ci/install-deps --tools); no TLS row"
		echo "tls_skipped=$t is not installed"
		# shellcheck disable=SC2016
		[ -n "$out" ] && printf '\n## The flow over TLS and HTTP/2\n\nNot measured: %s is not installed (`ci/install-deps --tools`).\n' "$t" >"$out"
		exit 0
	fi
done
for f in "$dosnap" "$mock"; do
	[ -x "$f" ] || { say "'$f' is missing: run 'make bench', which builds it"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/dosnap-bench-tls.XXXXXX")
chmod 700 "$work"
mock_pid='' front_pid=''
stop() {
	for p in $front_pid $mock_pid; do
		kill "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	mock_pid='' front_pid=''
}
trap 'stop; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

token=bench-token-$$
printf '%s\n' "$token" >"$work/token"
chmod 600 "$work/token"

# A self-signed certificate for 127.0.0.1 is its own CA: --cacert names it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>"$work/openssl.err" ||
	{ cat "$work/openssl.err" >&2; say "openssl failed"; exit 1; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_mock() {
	rm -f "$work/port"
	# shellcheck disable=SC2086 # $actions is several options
	"$mock" --listen 127.0.0.1:0 --port-file "$work/port" --token "$token" --droplets "$n" \
		--time-scale $scale $actions --rate-limit-minute off --rate-limit-hour off \
		>"$work/mock.log" 2>&1 &
	mock_pid=$!
	i=0
	while [ ! -s "$work/port" ]; do
		i=$((i + 1))
		[ "$i" -gt 200 ] && { cat "$work/mock.log" >&2; say "dosnap-mock did not start"; exit 1; }
		sleep 0.02
	done
	mock_port=$(cat "$work/port")
}

start_front() {
	: >"$work/access.log"
	tries=0
	while :; do
		fport=$(free_port)
		# shellcheck disable=SC2016 # the access log's variables, for nghttpx
		nghttpx --conf=/dev/null --single-process --workers=1 \
			--frontend="127.0.0.1,$fport" --backend="127.0.0.1,$mock_port" \
			--accesslog-file="$work/access.log" --accesslog-format='$remote_port $alpn' \
			--errorlog-file="$work/front.err" --log-level=WARN --no-ocsp --no-via \
			"$work/key.pem" "$work/cert.pem" >/dev/null 2>&1 &
		front_pid=$!
		i=0
		while [ $i -lt 250 ]; do
			if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
				"$fport" 2>/dev/null; then
				return 0
			fi
			kill -0 "$front_pid" 2>/dev/null || break
			sleep 0.02
			i=$((i + 1))
		done
		kill "$front_pid" 2>/dev/null || :
		wait "$front_pid" 2>/dev/null || :
		front_pid=
		tries=$((tries + 1))
		[ $tries -ge 5 ] && { cat "$work/front.err" >&2; say "nghttpx did not start"; exit 1; }
	done
}

# run KIND: one flow; appends its wall time (s) to $work/KIND.wall.
run() {
	rm -rf "$work/state"
	mkdir -m 700 "$work/state"
	if [ "$1" = tls ]; then
		set -- "$1" --api-url "https://127.0.0.1:$fport" --cacert "$work/cert.pem"
	else
		set -- "$1" --api-url "http://127.0.0.1:$mock_port"
	fi
	kind=$1
	shift
	t0=$(date +%s.%N)
	rc=0
	"$dosnap" snapshot -q "$@" --token-file "$work/token" --state-dir "$work/state" \
		--time-scale $scale --jobs "$n" --rate-limit off tag:env:prod tag:env:staging \
		>/dev/null 2>"$work/flow.err" || rc=$?
	t1=$(date +%s.%N)
	if [ "$rc" != 0 ]; then
		tail -n 5 "$work/flow.err" >&2
		say "the $kind flow exited $rc"
		exit 1
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }' >>"$work/$kind.wall"
}

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$work/plain.wall"
: >"$work/tls.wall"
: >"$work/conns"
k=0
while [ $k -lt $reps ]; do
	start_mock
	run plain
	stop
	start_mock
	start_front
	run tls
	# Client connections that carried requests, and requests over h2.
	awk '{ p[$1] = 1; n++; if ($2 == "h2") h++ } END { printf "%d %d %d\n", length(p), n, h }' \
		"$work/access.log" >>"$work/conns"
	stop
	k=$((k + 1))
done

plain=$(median "$work/plain.wall")
tls=$(median "$work/tls.wall")
ratio=$(awk -v a="$tls" -v b="$plain" 'BEGIN { printf "%.2f", a / b }')
conns=$(awk '{ print $1 }' "$work/conns" | sort -n | uniq | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
reqs=$(awk '{ print $2 }' "$work/conns" | sort -n | tail -n 1)
h2=$(awk '{ s += $3; n += $2 } END { print (s == n) ? "all" : s " of " n }' "$work/conns")
say "$n droplets, --jobs $n: plain HTTP $plain s, TLS + HTTP/2 $tls s (${ratio}x), $conns connection(s)"
echo "tls_n=$n"
echo "tls_reps=$reps"
echo "tls_plain_wall=$plain"
echo "tls_h2_wall=$tls"
echo "tls_ratio=$ratio"
echo "tls_connections=$conns"
echo "tls_requests=$reqs"
if [ -n "$out" ]; then
	cat >"$out" <<EOF

## The flow over TLS and HTTP/2

\`dosnap snapshot --jobs $n\` on $n fresh droplets at \`--time-scale $scale\` (actions of 2 s, 5 s
and 2 s), over plain HTTP/1.1 straight to dosnap-mock, and over TLS and HTTP/2 through nghttpx
before it (\`--cacert\`, a throw-away EC P-256 certificate), as in production; median of $reps
run(s) each (\`tests/bench/tls.sh\`).

| transport | droplets | wall (measured) | vs plain HTTP | connections | requests |
| --- | ---: | ---: | ---: | ---: | ---: |
| plain HTTP/1.1 | $n | $plain s | 1.00x | (not counted) | |
| TLS + HTTP/2 | $n | $tls s | ${ratio}x | $conns | $reqs ($h2 over h2) |

The connections are the client connections that carried requests, counted in the front's access
log: libcurl multiplexes every concurrent request over one HTTP/2 connection. Over plain HTTP/1.1
dosnap keeps at most 8 connections with one request each in flight, so TLS and HTTP/2 can come
out ahead despite the handshake.
EOF
fi

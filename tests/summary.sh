#!/bin/sh
# summary.sh: adds up the runs of make check-unit (or check-fast) and fails if one failed.
#
#   tests/summary.sh TITLE LOGDIR RUN...
#
# A RUN is a suite (`flow`) or a shard of one (`faults.matrix1`); each left
# LOGDIR/RUN.log (the runner's output) and LOGDIR/RUN.rc (its exit status),
# written by the GNUmakefile's check-suite-RUN.  Prints one line,
#   TITLE: 22 suites (26 runs), 807 checks, 0 failures
# and, for each run that failed, its failing checks and where its log is.
# Exit 1 if any run failed or left no result.
set -u
title=$1 dir=$2
shift 2

suites='' nsuites=0 runs=0 checks=0 failures=0 bad=''
for run in "$@"; do
	runs=$((runs + 1))
	suite=${run%%.*}
	case " $suites " in *" $suite "*) ;; *) suites="$suites $suite" nsuites=$((nsuites + 1)) ;; esac
	rc=$(cat "$dir/$run.rc" 2>/dev/null || echo missing)
	# Check's last line: "100%: Checks: 25, Failures: 0, Errors: 0"
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' \
	    "$dir/$run.log" 2>/dev/null | tail -n 1)
	if [ -n "$line" ]; then
		read -r c f e <<-EOF
		$(printf '%s\n' "$line" | sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/')
		EOF
		checks=$((checks + c))
		failures=$((failures + f + e))
	fi
	if [ "$rc" != 0 ] || [ -z "$line" ]; then
		[ -n "$line" ] || failures=$((failures + 1))
		bad="$bad $run"
	fi
done
if [ "$runs" -eq "$nsuites" ]; then
	echo "$title: $nsuites suites, $checks checks, $failures failures"
else
	echo "$title: $nsuites suites ($runs runs), $checks checks, $failures failures"
fi
[ -z "$bad" ] && exit 0
for run in $bad; do
	rc=$(cat "$dir/$run.rc" 2>/dev/null || echo "none: it did not finish")
	echo "$title: FAILED: $run (exit $rc); its log: $dir/$run.log"
	grep -E '^[^:]+:[0-9]+:[FE]:' "$dir/$run.log" 2>/dev/null | cut -c1-2000 | sed 's/^/    /'
	grep -qE '^[0-9]+%: Checks:' "$dir/$run.log" 2>/dev/null ||
		tail -n 20 "$dir/$run.log" 2>/dev/null | sed 's/^/    /'
done
exit 1

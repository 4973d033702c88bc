#!/usr/bin/env bash
# completion-test: drive the bash completion in src/completion/dosnap.bash
# the way bash does (COMP_WORDS, COMP_CWORD) and compare what it offers.
# Exits non-zero when any case fails.  Run from anywhere:
#	tests/completion-test.sh
# DOSNAP_SRCDIR, when set, names the source tree.
set -u

srcdir=${DOSNAP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
script=$srcdir/src/completion/dosnap.bash
if [[ ! -f $script ]]; then
	echo "completion-test: $script not found" >&2
	exit 1
fi

# compopt works only inside real completion; record what it is asked instead.
compopt_calls=''
compopt() { compopt_calls+=" $*"; }

# shellcheck source=/dev/null
. "$script"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dosnap-completion.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/files/sub" "$tmp/zoneinfo/Europe" "$tmp/zoneinfo/America"
touch "$tmp/files/token1" "$tmp/files/token2" "$tmp/files/sub/inner"
touch "$tmp/zoneinfo/Europe/Berlin" "$tmp/zoneinfo/Europe/Paris" \
	"$tmp/zoneinfo/America/New_York" "$tmp/zoneinfo/UTC" "$tmp/zoneinfo/zone.tab"
export TZDIR=$tmp/zoneinfo

default_breaks=$' \t\n"\'><=;|&(:'
fails=0
total=0

# Complete the words given, the last being the one under the cursor, and
# leave the sorted candidates, space-separated, in $got.
complete_words()
{
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	compopt_calls=''
	_dosnap dosnap "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$( ((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ')
	got=${got% }
}

sorted() { printf '%s\n' "$1" | tr -s ' \t' '\n' | grep -v '^$' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'; }

# expect 'CANDIDATES' WORD...: the candidates offered must be exactly these.
expect()
{
	local want
	want=$(sorted "$1")
	shift
	total=$((total + 1))
	complete_words "$@"
	if [[ $got != "$want" ]]; then
		fails=$((fails + 1))
		printf 'FAIL: %s\n  want: [%s]\n  got:  [%s]\n' "$*" "$want" "$got"
	fi
}

# expect_nospace WORD...: the completion asked bash not to add a space.
expect_nospace()
{
	total=$((total + 1))
	complete_words "$@"
	if [[ $compopt_calls != *nospace* ]]; then
		fails=$((fails + 1))
		printf 'FAIL: %s: expected compopt -o nospace, got [%s]\n' "$*" "$compopt_calls"
	fi
}

# expect_match REGEX WORD...: exactly one candidate, matching REGEX.
expect_match()
{
	local re=$1
	shift
	total=$((total + 1))
	complete_words "$@"
	if [[ ${#COMPREPLY[@]} -ne 1 || ! ${COMPREPLY[0]} =~ $re ]]; then
		fails=$((fails + 1))
		printf 'FAIL: %s: want one candidate matching %s, got [%s]\n' "$*" "$re" "$got"
	fi
}

global='-f --schedule --state-dir --now --token-file --api-url --cacert --log-format
	-v --verbose -q --quiet -h --help --version'
flow='--dry-run --jobs --stop-timeout --notify --rate-limit --time-scale --metrics-file'

for mode in default no-breaks; do
	if [[ $mode == default ]]; then
		COMP_WORDBREAKS=$default_breaks
	else
		COMP_WORDBREAKS=$' \t\n'
	fi

	# Commands, and the global options before them.
	expect 'run snapshot prune list status check next help' dosnap ''
	expect 'snapshot status' dosnap s
	expect "$global" dosnap -
	expect '--verbose --version' dosnap --v
	expect 'run snapshot prune list status check next help' dosnap -f sched ''
	expect 'run snapshot prune list status check next help' dosnap -v --state-dir /x ''
	expect 'check' dosnap --log-format=json ch
	expect 'run' dosnap -- r

	# Each command's options, with the global ones.
	expect "$global $flow" dosnap run -
	expect "$global $flow --keep --max-age --power --name --shutdown-timeout --timeout --volumes" \
		dosnap snapshot -
	expect "$global $flow --keep --max-age --name" dosnap prune -
	expect "$global --json" dosnap list -
	expect "$global --monitor --grace --warn-after --crit-after" dosnap status -
	expect "$global" dosnap check -
	expect "$global --json --expr --tz --from -n --count" dosnap next -
	expect '--power' dosnap snapshot --pow
	expect '--jobs' dosnap --state-dir /x run --j
	expect '--token-file' dosnap list --tok
	expect '--dry-run' dosnap snapshot --keep 3 --dr
	expect '' dosnap prune --vol

	# Commands without operands offer their options on an empty word.
	expect "$global $flow" dosnap run --dry-run ''
	expect "$global" dosnap check ''
	expect "$global --monitor --grace --warn-after --crit-after" dosnap status ''
	expect "$global --json --expr --tz --from -n --count" dosnap next ''

	# Option values.
	expect 'off live' dosnap snapshot --power ''
	expect 'live' dosnap snapshot --power l
	expect 'text json' dosnap --log-format ''
	expect 'text json' dosnap status --log-format ''
	expect 'json' dosnap list --log-format j
	expect '' dosnap snapshot --keep ''
	expect '' dosnap snapshot --max-age ''
	expect '' dosnap next -n ''
	expect '' dosnap run --jobs ''
	expect '@daily' dosnap next --expr @d
	expect 'dosnap-{name}-{slot}' dosnap snapshot --name ''
	expect_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:00Z$' dosnap --now ''
	expect_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:00Z$' dosnap next --from ''

	# Files and directories.
	expect "$tmp/files/token1 $tmp/files/token2" dosnap --token-file "$tmp/files/tok"
	expect "$tmp/files/token1 $tmp/files/token2" dosnap list --cacert "$tmp/files/tok"
	expect "$tmp/files/token1 $tmp/files/token2" dosnap check -f "$tmp/files/to"
	expect "$tmp/files/token1 $tmp/files/token2" dosnap check --schedule "$tmp/files/to"
	expect "$tmp/files/token1 $tmp/files/token2" dosnap -vf "$tmp/files/to"
	expect "-f$tmp/files/token1 -f$tmp/files/token2" dosnap "-f$tmp/files/to"
	expect "$tmp/files/sub" dosnap --state-dir "$tmp/files/"
	expect "$tmp/files/sub" dosnap run --state-dir "$tmp/files/s"

	# Time zones for --tz, from $TZDIR.
	expect 'Europe/' dosnap next --expr @daily --tz Eu
	expect 'America/ Europe/ UTC' dosnap next --tz ''
	expect 'Europe/Berlin' dosnap next --tz Europe/B
	expect_nospace dosnap next --tz Eu

	# Targets: tag: and name: prefixes, without a trailing space.
	expect 'tag: name:' dosnap snapshot ''
	expect 'tag:' dosnap snapshot t
	expect 'name:' dosnap list n
	expect 'tag: name:' dosnap prune --keep 7 ''
	expect 'tag: name:' dosnap snapshot --keep 7 --power live 123 ''
	expect_nospace dosnap snapshot ''
	expect '' dosnap snapshot 123

	# Options may follow operands; only -- ends a command's options.
	expect '--keep' dosnap snapshot 123 --k
	expect '' dosnap snapshot -- --k
	expect 'tag: name:' dosnap snapshot -- ''
	expect '--json' dosnap list tag:web --js
done

# --opt=value and tag:name as bash splits them when '=' and ':' break words.
COMP_WORDBREAKS=$default_breaks
expect 'off live' dosnap snapshot --power =
expect 'live' dosnap snapshot --power = l
expect 'text json' dosnap --log-format =
expect 'json' dosnap run --log-format = j
expect "$tmp/files/token1 $tmp/files/token2" dosnap --token-file = "$tmp/files/tok"
expect 'Europe/Berlin' dosnap next --tz = Europe/B
expect '' dosnap snapshot tag : we
expect '' dosnap snapshot tag :
expect '--json' dosnap list name : db --js
expect 'run snapshot prune list status check next help' dosnap --log-format = json ''
expect '--jobs' dosnap --log-format = json run --jo

# The same, unsplit.
COMP_WORDBREAKS=$' \t\n'
expect '--power=off --power=live' dosnap snapshot --power=
expect '--log-format=json' dosnap --log-format=j
expect "--token-file=$tmp/files/token1 --token-file=$tmp/files/token2" \
	dosnap --token-file="$tmp/files/tok"
expect '' dosnap snapshot tag:we

# Registered for the dosnap command.
total=$((total + 1))
if ! complete -p dosnap 2>/dev/null | grep -q -- '-F _dosnap dosnap'; then
	fails=$((fails + 1))
	echo 'FAIL: complete -p dosnap does not name _dosnap'
fi

if ((fails)); then
	echo "completion-test: $fails of $total cases failed"
	exit 1
fi
echo "completion-test: all $total cases passed"

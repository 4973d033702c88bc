# bash completion for dosnap(1)                              -*- shell-script -*-
#
# Installed by `make install` as share/bash-completion/completions/dosnap.
# Self-contained: it works with or without the bash-completion package.
#
# It follows the program's own parsing: global options before or after the
# command; a command's options before or after its TARGETs (only `--` ends
# the options).

_dosnap_commands='run snapshot prune list status check next help'

# Options every command accepts; those in _dosnap_argopts take a value.
_dosnap_global_opts='-f --schedule --state-dir --now --token-file --api-url
	--cacert --log-format -v --verbose -q --quiet -h --help --version'

# A word list for the command's own options.
_dosnap_command_opts()
{
	local flow='--dry-run --jobs --stop-timeout --notify --rate-limit --time-scale --metrics-file'

	case $1 in
	run)		echo "$flow" ;;
	snapshot)	echo "$flow --keep --max-age --power --name --shutdown-timeout --timeout --volumes" ;;
	prune)		echo "$flow --keep --max-age --name" ;;
	list)		echo '--json' ;;
	status)		echo '--monitor --grace --warn-after --crit-after' ;;
	next)		echo '--json --expr --tz --from -n --count' ;;
	*)		echo '' ;;
	esac
}

# Whether option $1 (long, or a short letter after '-') takes a value.
_dosnap_takes_value()
{
	case $1 in
	-f|--schedule|--state-dir|--now|--token-file|--api-url|--cacert|--log-format) return 0 ;;
	--jobs|--stop-timeout|--notify|--rate-limit|--time-scale|--metrics-file) return 0 ;;
	--keep|--max-age|--power|--name|--shutdown-timeout|--timeout) return 0 ;;
	--expr|--tz|--from|-n|--count) return 0 ;;
	--grace|--warn-after|--crit-after) return 0 ;;
	esac
	return 1
}

# For a bundle of short options ($1 without its '-'): 0 when the last letter
# takes a value in the next word, 1 when none does or it is attached.
_dosnap_short_bundle_wants_next()
{
	local s=$1 cmd=$2 i c

	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		if [[ $c == f || ( $c == n && $cmd == next ) ]]; then
			((i == ${#s} - 1)) && return 0
			return 1
		fi
	done
	return 1
}

# Join words that bash split at ':' or '=' (tag:web, --power=off) back
# together, into _dosnap_words and _dosnap_cword.
_dosnap_reassemble()
{
	local exclude i j first

	exclude=${COMP_WORDBREAKS//[^=:]/}
	_dosnap_words=()
	_dosnap_cword=$COMP_CWORD
	if [[ -z $exclude ]]; then
		_dosnap_words=("${COMP_WORDS[@]}")
		return
	fi
	for ((i = 0, j = 0; i < ${#COMP_WORDS[@]}; i++, j++)); do
		first=1
		while ((i > 0)) && [[ -n ${COMP_WORDS[i]} &&
		    ${COMP_WORDS[i]//[^$exclude]/} == "${COMP_WORDS[i]}" ]]; do
			if ((j >= 2)) && [[ -n $first ]]; then
				((j--))
			fi
			first=
			_dosnap_words[j]=${_dosnap_words[j]-}${COMP_WORDS[i]}
			((i == COMP_CWORD)) && _dosnap_cword=$j
			if ((i < ${#COMP_WORDS[@]} - 1)); then
				((i++))
			else
				return
			fi
		done
		_dosnap_words[j]=${_dosnap_words[j]-}${COMP_WORDS[i]}
		((i == COMP_CWORD)) && _dosnap_cword=$j
	done
}

# Time zone names under $TZDIR for --tz.
_dosnap_zones()
{
	local cur=$1 dir=${TZDIR:-/usr/share/zoneinfo} f z
	local IFS=$'\n'

	[[ -d $dir ]] || return
	for f in $(compgen -f -- "$dir/$cur"); do
		z=${f#"$dir"/}
		case $z in
		*.*|posixrules|right|posix|Factory) continue ;;
		esac
		if [[ -d $f ]]; then
			COMPREPLY+=("$z/")
		else
			COMPREPLY+=("$z")
		fi
	done
}

# COMPREPLY from compgen's output, one candidate a line.
_dosnap_reply()
{
	mapfile -t COMPREPLY < <(compgen "$@")
}

_dosnap_nospace()
{
	compopt -o nospace 2>/dev/null
}

# Complete the value $2 of option $1; returns 1 when $1 takes no value.
_dosnap_value()
{
	local opt=$1 cur=$2

	case $opt in
	-f|--schedule|--token-file|--cacert|--metrics-file)
		compopt -o filenames 2>/dev/null
		_dosnap_reply -f -- "$cur"
		;;
	--state-dir)
		compopt -o filenames 2>/dev/null
		_dosnap_reply -d -- "$cur"
		;;
	--log-format)
		_dosnap_reply -W 'text json' -- "$cur"
		;;
	--power)
		_dosnap_reply -W 'off live' -- "$cur"
		;;
	--now|--from)
		_dosnap_reply -W "$(date -u +%Y-%m-%dT%H:%M:00Z 2>/dev/null)" -- "$cur"
		;;
	--tz)
		_dosnap_zones "$cur"
		[[ ${COMPREPLY[*]} == */ ]] && _dosnap_nospace
		;;
	--api-url)
		_dosnap_reply -W 'https://api.digitalocean.com' -- "$cur"
		;;
	--notify)
		_dosnap_reply -W 'https://' -- "$cur"
		_dosnap_nospace
		;;
	--rate-limit)
		_dosnap_reply -W '240 off' -- "$cur"
		;;
	--name)
		_dosnap_reply -W 'dosnap-{name}-{slot}' -- "$cur"
		;;
	--expr)
		_dosnap_reply -W '@yearly @annually @monthly @weekly @daily @midnight @hourly' -- "$cur"
		;;
	--jobs|--stop-timeout|--time-scale|--keep|--max-age|--shutdown-timeout|--timeout|-n|--count|--grace|--warn-after|--crit-after)
		COMPREPLY=()
		;;
	*)
		return 1
		;;
	esac
	return 0
}

_dosnap()
{
	local cur prev words cword cmd='' cmdi=0 operands=0 i w breaks strip
	local _dosnap_words _dosnap_cword

	COMPREPLY=()
	_dosnap_reassemble
	words=("${_dosnap_words[@]}")
	cword=$_dosnap_cword
	cur=${words[cword]}
	prev=${words[cword - 1]}
	# Readline replaces only the text after the last ':' or '=' that
	# breaks words; candidates must leave out what comes before it.
	strip=''
	breaks=${COMP_WORDBREAKS//[^=:]/}
	if [[ -n $breaks && $cur == *["$breaks"]* ]]; then
		strip=${cur%"${cur##*["$breaks"]}"}
	fi

	# Find the command, skipping global options and their values.
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ $w == -- ]]; then
			((i + 1 < cword)) && { cmdi=$((i + 1)); cmd=${words[cmdi]}; }
			break
		elif [[ $w == --*=* ]]; then
			continue
		elif [[ $w == --* ]]; then
			_dosnap_takes_value "$w" && ((i++))
		elif [[ $w == -?* ]]; then
			_dosnap_short_bundle_wants_next "${w#-}" '' && ((i++))
		else
			cmdi=$i
			cmd=$w
			break
		fi
	done

	# After the command: has `--` ended the options?  (Operands do not.)
	if [[ -n $cmd ]]; then
		for ((i = cmdi + 1; i < cword; i++)); do
			w=${words[i]}
			if [[ $w == -- ]]; then
				operands=1
				break
			elif [[ $w == --*=* ]]; then
				continue
			elif [[ $w == --* ]]; then
				_dosnap_takes_value "$w" && ((i++))
			elif [[ $w == -?* ]]; then
				_dosnap_short_bundle_wants_next "${w#-}" "$cmd" && ((i++))
			fi
		done
	fi

	if ((!operands)); then
		# The value of an option: --opt=VALUE, -fFILE, or --opt VALUE.
		if [[ $cur == --*=* ]]; then
			if _dosnap_value "${cur%%=*}" "${cur#*=}"; then
				COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}")
				COMPREPLY=("${COMPREPLY[@]#"$strip"}")
			fi
			return 0
		fi
		if [[ $cur == -f?* ]]; then
			_dosnap_value -f "${cur#-f}" && COMPREPLY=("${COMPREPLY[@]/#/-f}")
			return 0
		fi
		if [[ $prev == -* && $prev != *=* ]] &&
		    [[ $prev != -n || $cmd == next ]] && _dosnap_takes_value "$prev"; then
			_dosnap_value "$prev" "$cur"
			COMPREPLY=("${COMPREPLY[@]#"$strip"}")
			return 0
		fi
		if [[ $prev == -?* && $prev != --* ]] &&
		    _dosnap_short_bundle_wants_next "${prev#-}" "$cmd"; then
			case ${prev: -1} in
			f) _dosnap_value -f "$cur" ;;
			esac
			return 0
		fi
	fi

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_dosnap_reply -W "$_dosnap_global_opts" -- "$cur"
		else
			_dosnap_reply -W "$_dosnap_commands" -- "$cur"
		fi
		return 0
	fi

	if ((!operands)) && [[ $cur == -* ]]; then
		_dosnap_reply -W "$_dosnap_global_opts $(_dosnap_command_opts "$cmd")" -- "$cur"
		return 0
	fi

	case $cmd in
	snapshot|prune|list)
		# TARGET: a droplet id, tag:NAME or name:DROPLET-NAME.  Ids, tags
		# and names would need the API, which completion never asks.
		if [[ $cur != *:* ]]; then
			_dosnap_reply -W 'tag: name:' -- "$cur"
			COMPREPLY=("${COMPREPLY[@]#"$strip"}")
			((${#COMPREPLY[@]})) && _dosnap_nospace
		fi
		;;
	run|status|check|next)
		# No operands: offer the options.
		((!operands)) && _dosnap_reply -W "$_dosnap_global_opts $(_dosnap_command_opts "$cmd")" -- "$cur"
		;;
	esac
	return 0
} &&
	complete -F _dosnap dosnap

# ex: filetype=sh

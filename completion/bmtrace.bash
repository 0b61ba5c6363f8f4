# SPDX-License-Identifier: MIT
# bash completion for bmtrace (installed by make install). The options are read from
# `bmtrace help [SUBCOMMAND]`, so they are always the ones the installed binary takes.

_bmtrace() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local sub="" i w
	# the subcommand, and whether COMMAND has begun (after --, or a first operand)
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--)
			# COMMAND and its arguments: as the shell would complete them
			COMP_WORDS=("${COMP_WORDS[@]:i+1}")
			COMP_CWORD=$((COMP_CWORD - i - 1))
			if ((COMP_CWORD == 0)); then
				mapfile -t COMPREPLY < <(compgen -c -- "$cur")
			elif declare -F _command_offset >/dev/null; then
				_command_offset 0
			else
				mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			fi
			return
			;;
		report | diff | serve | help) [[ $i == 1 ]] && sub=$w ;;
		esac
	done
	case $prev in
	-o | --output | --json | --timeline | --svg | --markdown | --prometheus | --perfetto | \
		-w | --record | --cgroup-parent)
		[[ $sub == diff && $prev == --json ]] || {
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return
		}
		;;
	-u | --user)
		mapfile -t COMPREPLY < <(compgen -u -- "$cur")
		return
		;;
	-p | --pid)
		mapfile -t COMPREPLY < <(compgen -W "$(ps -e -o pid= 2>/dev/null)" -- "$cur")
		return
		;;
	--stages)
		mapfile -t COMPREPLY < <(compgen -W "toolchain" -- "$cur")
		return
		;;
	esac
	if [[ $sub == help ]]; then
		mapfile -t COMPREPLY < <(compgen -W "report diff serve" -- "$cur")
	elif [[ $cur == -* ]]; then
		local opts
		opts=$(bmtrace help $sub 2>/dev/null | grep -E '^ +-' |
			grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z-]*' | tr -d ' ,' | sort -u)
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
	elif ((COMP_CWORD == 1)); then
		mapfile -t COMPREPLY < <(compgen -W "report diff serve help" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}
complete -F _bmtrace bmtrace

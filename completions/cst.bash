# bash completion for cst(1)
#
# Installed as share/bash-completion/completions/cst, where bash-completion
# loads it on first use; it can also be sourced directly.  The flag lists
# follow `cst test --help` (a test checks that they agree).

_cst_test_flags="--image --config --driver --output --test-report --junit-suite-name --quiet
	--quiet-pass --no-color --pull --save --runtime --network --network-per-test --network-sandbox --shared-container --cache-dir --cache-max --no-cache --read-plan --platform --registry-ca --insecure-registry --registry-max-size --metadata --image-from-oci-layout
	--default-image-tag --ignore-ref-annotation --jobs --timeout --max-output --force --verbosity --json --help"

# Config files are YAML or JSON; directories are offered to walk into.
_cst_config_files() {
	local IFS=$'\n'
	COMPREPLY=($(compgen -f -X '!*.@(yaml|yml|json)' -- "$1") $(compgen -d -- "$1"))
}

# Images the engine has, when there is one to ask; nothing otherwise, so a
# missing or slow engine never blocks the shell for long.
_cst_engine_images() {
	command -v docker >/dev/null 2>&1 || return 0
	timeout 2 docker image ls --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>'
}

_cst_test() {
	local cur="$1" prev="$2" i driver=docker
	for ((i = 2; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-d | --driver) driver=${COMP_WORDS[i + 1]} ;;
		--driver=*) driver=${COMP_WORDS[i]#--driver=} ;;
		esac
	done

	case $prev in
	-c | --config)
		_cst_config_files "$cur"
		return
		;;
	-d | --driver)
		COMPREPLY=($(compgen -W "docker tar" -- "$cur"))
		return
		;;
	-o | --output)
		COMPREPLY=($(compgen -W "text json junit tap html" -- "$cur"))
		return
		;;
	-v | --verbosity)
		COMPREPLY=($(compgen -W "panic fatal error warning info debug trace" -- "$cur"))
		return
		;;
	-i | --image)
		if [ "$driver" = tar ]; then
			local IFS=$'\n'
			COMPREPLY=($(compgen -f -- "$cur"))
		else
			local IFS=$'\n'
			COMPREPLY=($(compgen -W "$(_cst_engine_images)" -- "$cur"))
		fi
		return
		;;
	--test-report | --metadata | --registry-ca)
		local IFS=$'\n'
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--image-from-oci-layout | --cache-dir)
		local IFS=$'\n'
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--platform)
		COMPREPLY=($(compgen -W "all linux/amd64 linux/arm64 linux/arm/v7 linux/386 linux/ppc64le linux/s390x" -- "$cur"))
		return
		;;
	--network)
		COMPREPLY=($(compgen -W "none host bridge" -- "$cur"))
		return
		;;
	--read-plan)
		COMPREPLY=($(compgen -W "auto export paths" -- "$cur"))
		return
		;;
	--junit-suite-name | --runtime | --default-image-tag | --jobs | --timeout | --max-output | --cache-max | --insecure-registry | --registry-max-size)
		return
		;;
	esac

	case $cur in
	--output=*)
		COMPREPLY=($(compgen -P --output= -W "text json junit tap html" -- "${cur#--output=}"))
		;;
	--driver=*)
		COMPREPLY=($(compgen -P --driver= -W "docker tar" -- "${cur#--driver=}"))
		;;
	-*)
		COMPREPLY=($(compgen -W "$_cst_test_flags" -- "$cur"))
		;;
	esac
}

_cst() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	# extglob for the config file pattern; restored so the user's shell
	# options are left as they were.
	local extglob_was_off=0
	shopt -q extglob || { extglob_was_off=1; shopt -s extglob; }

	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "test validate version help --help" -- "$cur"))
	else
		case ${COMP_WORDS[1]} in
		test)
			_cst_test "$cur" "$prev"
			;;
		validate)
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "--config --portable --help" -- "$cur"))
			else
				_cst_config_files "$cur"
			fi
			;;
		help)
			[ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "test validate" -- "$cur"))
			;;
		esac
	fi

	[ "$extglob_was_off" -eq 1 ] && shopt -u extglob
	return 0
}

complete -o filenames -F _cst cst

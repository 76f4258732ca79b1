# Shell tests source this to load the loopback servers' env file into exported variables.
#
#   . "$POSTA_SOURCE_DIR/tests/harness/load_env.sh"
#   posta_load_env || exit 1        # reads $POSTA_TEST_ENV (or the file given as $1)
#
# The env file is KEY=VALUE lines without quoting (PASS3 holds spaces, MASTER_SEPARATOR
# is "*"), so it must be parsed, never sourced as shell code.
# shellcheck shell=bash

posta_load_env() {
    local file=${1:-${POSTA_TEST_ENV:-}} line key
    if [[ -z $file || ! -r $file ]]; then
        echo "posta_load_env: no env file (POSTA_TEST_ENV='${POSTA_TEST_ENV:-}'): are the test servers running?" >&2
        return 1
    fi
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line == *=* ]] || continue
        key=${line%%=*}
        # Only names the harness writes (upper case); printf -v never evaluates the value.
        [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
        printf -v "$key" '%s' "${line#*=}"
        export "${key?}"
    done < "$file"
}

# shellcheck shell=bash
# Sourced by scripts/test: install a Debian package quietly.
#
# apt prints a couple of hundred lines (progress, unpacking, triggers) that
# would bury the test result; they go to $APT_LOG and one line on stdout says
# what is being installed and where the log is. A failure is one line on
# stderr, and the tests that need the package skip and say why.

APT_LOG="${APT_LOG:-${TMPDIR:-/tmp}/flowspec-telemetry-apt.log}"

# quiet_apt_install PACKAGE WHAT-NEEDS-IT
quiet_apt_install() {
    local package="$1" what="$2"
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "scripts/test: $package is not installed; $what will be skipped" >&2
        return 0
    fi
    echo "scripts/test: installing $package for the $what (apt output: $APT_LOG)"
    if ! { apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package"; } \
        >>"$APT_LOG" 2>&1; then
        echo "scripts/test: could not install $package (see $APT_LOG); $what will be skipped" >&2
    fi
    return 0
}

#!/usr/bin/env bash
# Create the project virtualenv; on a fresh Debian install python3 and python3-venv first, and
# the C compiler and Python headers that the mypyc build of the hot modules needs (setup.py;
# without them the package installs as plain Python, slower, with a warning).
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "authaudit: need root to apt-get install $*" >&2
        return 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
command -v "$python" >/dev/null 2>&1 || apt_install python3 python3-venv
if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    apt_install python3-venv
    "$python" -m venv "$venv"
fi
headers=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
if ! command -v cc >/dev/null 2>&1 || [ ! -f "$headers/Python.h" ]; then
    echo "authaudit: installing a C compiler and Python headers for the compiled build" >&2
    apt_install gcc libc6-dev python3-dev \
        || echo "authaudit: no compiler: the package will be plain Python (slower)" >&2
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip

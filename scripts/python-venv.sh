#!/usr/bin/env bash
# Create the project virtualenv; on a fresh Debian install python3 and python3-venv first.
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "authaudit: need root to apt-get install $*" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v "$python" >/dev/null 2>&1 || apt_install python3 python3-venv
if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    apt_install python3-venv
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip

#!/usr/bin/env bash
# Install, through apt, the system programs the test suite runs for real when they are missing:
# tshark (reference decoder), tcpdump + postfix + dovecot-core + swaks (the real-traffic lab),
# john and pflogsumm (benchmark peers), mariadb-server (SQL account stores; the tests start a
# private server).
# Packages already installed are left alone.
set -euo pipefail
packages=(tshark tcpdump postfix dovecot-core swaks john pflogsumm mariadb-server)
missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "authaudit: missing system packages (${missing[*]}); run as root or install them" >&2
    exit 1
fi
echo "authaudit: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# "No configuration": the package must not start a system MTA that could hold port 25 on every
# address (the lab listens on its own loopback address).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string authaudit.invalid" | debconf-set-selections
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

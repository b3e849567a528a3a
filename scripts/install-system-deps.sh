#!/usr/bin/env bash
# Installs the real peers the integration tests talk to (OpenSSH server, tools that build local apt
# and RPM repositories, dnf and zypper for install-root tests). Runs as part of `make test`.
# Without root or apt-get it prints what is missing and returns 0: the tests that need a peer then
# skip and say why.
set -euo pipefail
packages=(openssh-server openssh-client dpkg-dev rpm dnf zypper createrepo-c)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "install-system-deps: not root or no apt-get; missing: ${missing[*]} (tests that need them will skip)"
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

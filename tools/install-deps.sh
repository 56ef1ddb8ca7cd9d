#!/usr/bin/env bash
# Installs the Debian packages slowpath needs to build, test and run its demo.
# Idempotent: installs only what is missing, runs `apt-get update` once first when needed.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  clang libclang-rt-dev
  libuv1-dev libcurl4-openssl-dev libcjson-dev libpcap-dev libcmocka-dev
  iproute2 iputils-ping iputils-arping netcat-openbsd tshark python3 python3-scapy curl bc
  gnuplot-nox apache2-utils
  valgrind   # callgrind: bench/echo_instructions.sh
  prometheus man-db groff-base dpkg-dev file
  util-linux passwd   # setpriv and useradd: tests/integration/test_user.sh
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The prometheus package (for promtool) ships a service: nothing here may start it. Where no
# policy says so already, one that forbids starting services stands for the install.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  trap '[ -z "$own_policy" ] || rm -f "$policy"' EXIT
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

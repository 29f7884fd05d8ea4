#!/usr/bin/env bash
# Installs every Debian 12 package needed to build, test and run fogbow.
# Idempotent: when everything is installed already, it does not touch apt.
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build g++ pkg-config
  # scripts/lint.sh (clang 14 on Debian 12)
  clang-format clang-tidy
  # scripts/fuzz.sh: clang 14 with libFuzzer and the sanitizers' runtimes
  clang libclang-rt-14-dev
  # libraries
  libcaf-dev nlohmann-json3-dev libcpp-httplib-dev libsqlite3-dev
  libmicrohttpd-dev
  libcli11-dev libspdlog-dev libtomlplusplus-dev doctest-dev
  # tests, demo and benchmarks (integration tests are Python 3 stdlib only,
  # but for the OpenAPI test's schema validation)
  python3 procps curl openssl python3-jsonschema
  # the build converts docs/openapi.yaml to the JSON the manager serves
  python3-yaml
  # GET /metrics: prometheus-cpp keeps the series; the metrics test parses
  # them with the Prometheus project's Python parser
  prometheus-cpp-dev python3-prometheus-client
  # local driver: the instance sandbox (setpriv and prlimit come with
  # util-linux)
  bubblewrap util-linux
  # tunnel: libssh server, OpenSSH clients in tests and agents,
  # sshd and iperf3 for bench/tunnel
  libssh-dev libssl-dev openssh-client openssh-server iperf3
  # federation: XMPP bridge (Qt5 + QXmpp 1.4), Prosody and ejabberd for
  # tests and bench/membership (the tests start their own instances; the
  # packages' system services are not needed)
  qtbase5-dev libqxmpp-dev prosody lua-unbound ejabberd
  # the ldap identity plugin (libldap); slapd, ldapadd and openssl (a
  # throw-away CA) for its test
  libldap-dev slapd ldap-utils openssl
  # the Debian package (cpack): the man page from --help, dpkg-shlibdeps
  # for its dependencies; its tests check it with lintian, the units with
  # systemd-analyze (package systemd) and the roles' system calls against
  # the units' filters with strace
  help2man dpkg-dev lintian systemd strace
  # the web dashboard's test: headless Chromium driven through Selenium
  chromium chromium-driver python3-selenium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# No package's own service may start (ejabberd would start epmd and hold
# 5222/5269 on every address, which the s2s tests bind on loopback); the
# tests start their own servers.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod +x "$policy"
  trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
if [[ " ${missing[*]} " == *" ejabberd "* ]] && command -v systemctl >/dev/null; then
  "${sudo[@]}" systemctl disable ejabberd >/dev/null 2>&1 || true
fi

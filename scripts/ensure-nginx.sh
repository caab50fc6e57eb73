#!/usr/bin/env bash
# The real-proxy test (tests/proxy/) runs Debian's nginx with docker/nginx.conf in front of the API. Install it if
# missing. Only the binary is used: the test runs it unprivileged with its own prefix; the package's service is
# not started (policy-rc.d) so nothing listens on port 80 afterwards.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "nginx is missing: run 'sudo apt-get update && sudo apt-get install -y nginx-light' (or nginx)" >&2
  exit 1
fi
echo "installing Debian's nginx for the proxy test" >&2
apt-get update -qq
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null || status=$?
if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi
exit "${status:-0}"

#!/usr/bin/env bash
# Tools the compat/ tests drive as external clients (called from .ci/run).
#   php-cli + php-redis  phpredis session handler and Redis class (compat/php_test.go)
#   redis-tools          redis-cli (compat/cli_test.go); .ci/run installs it too
#   bsdutils             `script`, the pseudo-tty for interactive redis-cli
#   haproxy + chromium   the round-robin balancer and the headless browser of
#                        e2e/architecture_test.go (about 35 s to install, 130
#                        packages; the test itself takes 20-45 s)
# Node >= 20 and npm are preinstalled on the CI image; compat/node_test.go
# runs `npm ci` from compat/node/package-lock.json into the user cache dir,
# e2e/shop_node_test.go the same from examples/shop-node/package-lock.json.
# Under CI=true every one of these tests fails (not skips) if its tool is
# missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
command -v php >/dev/null || need+=(php-cli)
if ! command -v php >/dev/null || ! php -r 'exit(extension_loaded("redis") ? 0 : 1);' 2>/dev/null; then
  need+=(php-redis)
fi
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v script >/dev/null || need+=(bsdutils)
command -v haproxy >/dev/null || need+=(haproxy)
command -v chromium >/dev/null || need+=(chromium)
if ((${#need[@]})); then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "deps.sh: node/npm are missing; compat/node_test.go will fail under CI=true (needs Node >= 20)" >&2
fi
php -r 'echo "php ", PHP_VERSION, ", phpredis ", phpversion("redis"), "\n";'
echo "node $(node --version 2>/dev/null || echo missing), npm $(npm --version 2>/dev/null || echo missing)"
haproxy -v | sed -n 1p
chromium --version 2>/dev/null

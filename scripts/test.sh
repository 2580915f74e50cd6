#!/usr/bin/env bash
# Runs the whole test suite: unit tests, real-client integration tests, kcat, kill -9 crash tests.
# Installs what the tests need when it is missing (kcat, chromium and chromium-driver from Debian's packages,
# kafkajs from npm).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=find-java.sh
source "$ROOT/scripts/find-java.sh"
spate_find_java || exit 1
echo "test: using $("$JAVA" -version 2>&1 | head -1) at $JAVA_HOME"

if ! command -v kcat >/dev/null 2>&1; then
  echo "test: kcat not found; installing Debian's kcat package"
  SUDO=""
  [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq kcat >/dev/null
fi
command -v kcat >/dev/null || { echo "test: kcat is required (apt-get install kcat)" >&2; exit 1; }

# ConsoleBrowserTest drives the web console in Debian's headless Chromium through its chromedriver
# (Selenium is pointed at /usr/bin/chromedriver; nothing is downloaded at run time).
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  echo "test: chromium or chromedriver not found; installing Debian's chromium and chromium-driver packages"
  SUDO=""
  [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || { echo "test: chromium and chromium-driver are required (apt-get install chromium chromium-driver)" >&2; exit 1; }

NODE_TESTS="$ROOT/spate-tests/src/test/node"
if [[ ! -d "$NODE_TESTS/node_modules" ]]; then
  command -v npm >/dev/null 2>&1 || { echo "test: npm is required to install kafkajs for the Node.js client tests (install node and npm)" >&2; exit 1; }
  echo "test: installing the Node.js test clients (npm ci in spate-tests/src/test/node)"
  (cd "$NODE_TESTS" && npm ci --no-audit --no-fund) || { echo "test: npm ci failed in $NODE_TESTS" >&2; exit 1; }
fi

spate_default_maven_opts
cd "$ROOT"
# Two modules at a time (-T 2): the controller tests of spate-cluster wait on timeouts while the
# small modules build beside them, and the simulation's slice in spate-testkit, which nothing
# depends on, runs while the server, processing, HTTP and broker modules build and test. The
# fault campaigns' slice waits for the simulation (spate-chaos/pom.xml) and the system tests for
# the campaigns, so the two heaviest parts never overlap. SPATE_TEST_THREADS=1 builds one at a time.
exec ./mvnw -B -T "${SPATE_TEST_THREADS:-2}" verify "$@"

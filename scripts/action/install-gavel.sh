#!/usr/bin/env bash
# Installs a gavel release: downloads the archive for this runner's OS and
# architecture, checks it against the release's checksums.txt, and puts the
# binary in $GAVEL_BIN_DIR (default $RUNNER_TEMP/gavel-bin), which it adds
# to $GITHUB_PATH when that is set. Used by action.yml.
#
#   GAVEL_VERSION=v0.9.0 scripts/action/install-gavel.sh
set -euo pipefail

version="${GAVEL_VERSION:?set GAVEL_VERSION to a release tag, e.g. v0.9.0}"
version="${version#v}"
case "$version" in
  *[!0-9A-Za-z.+-]*|"") echo "install-gavel: bad version ${GAVEL_VERSION}" >&2; exit 2 ;;
esac
base="${GAVEL_RELEASES_URL:-https://github.com/gavel-eval/gavel/releases/download}/v${version}"

os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$os" in
  linux|darwin) ext=tar.gz ;;
  mingw*|msys*|cygwin*) os=windows; ext=zip ;;
  *) echo "install-gavel: unsupported OS $os" >&2; exit 2 ;;
esac
arch="$(uname -m)"
case "$arch" in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "install-gavel: unsupported architecture $arch" >&2; exit 2 ;;
esac

file="gavel_${version}_${os}_${arch}.${ext}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 3 -o "$tmp/$file" "$base/$file"
curl -fsSL --retry 3 -o "$tmp/checksums.txt" "$base/checksums.txt"
want="$(awk -v f="$file" '$2 == f { print $1 }' "$tmp/checksums.txt")"
if [ -z "$want" ]; then
  echo "install-gavel: $file is not in checksums.txt" >&2
  exit 1
fi
if command -v sha256sum >/dev/null 2>&1; then
  got="$(sha256sum "$tmp/$file" | awk '{ print $1 }')"
else
  got="$(shasum -a 256 "$tmp/$file" | awk '{ print $1 }')"
fi
if [ "$got" != "$want" ]; then
  echo "install-gavel: checksum mismatch for $file: got $got, want $want" >&2
  exit 1
fi

dest="${GAVEL_BIN_DIR:-${RUNNER_TEMP:-$HOME}/gavel-bin}"
mkdir -p "$dest"
bin=gavel
if [ "$ext" = zip ]; then
  bin=gavel.exe
  unzip -o -q "$tmp/$file" "$bin" -d "$dest"
else
  tar -xzf "$tmp/$file" -C "$dest" "$bin"
fi
chmod +x "$dest/$bin"
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dest" >> "$GITHUB_PATH"
fi
"$dest/$bin" version

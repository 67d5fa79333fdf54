#!/bin/sh
# Compiles berth-helper (static, so it needs nothing from the host after exec) into OUT, beside a
# properties file with its sha256 and architecture: berth extracts it once to a path named by that hash.
# Usage: build.sh OUT-DIR VERSION      (run by the Maven build of the runtime module)
set -eu
out=$1
version=$2
src=$(cd "$(dirname "$0")" && pwd)
command -v gcc >/dev/null 2>&1 || { echo "build.sh: gcc is needed to build berth-helper (Debian: gcc libc6-dev)" >&2; exit 1; }
mkdir -p "$out"
tmp="$out/berth-helper.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# -ffile-prefix-map keeps the binary identical wherever the sources are checked out.
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -s -ffile-prefix-map="$src"=. \
    -DBERTH_HELPER_VERSION="\"$version\"" -o "$tmp" "$src"/main.c "$src"/spec.c "$src"/monitor.c \
    "$src"/container.c "$src"/process.c "$src"/userns.c "$src"/keeper.c "$src"/exec.c "$src"/ports.c "$src"/dialer.c "$src"/hold.c "$src"/attach.c "$src"/tty.c "$src"/netjoin.c
mv -f "$tmp" "$out/berth-helper"
sha=$(sha256sum "$out/berth-helper" | cut -c1-64)
printf 'sha256=%s\narch=%s\n' "$sha" "$(uname -m)" > "$out/berth-helper.properties"

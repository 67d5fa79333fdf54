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
gen="$out/gen.$$"
trap 'rm -f "$tmp"; rm -rf "$gen"' EXIT
mkdir -p "$gen"
# The syscall numbers the seccomp filter matches names against (seccomp.c), from the kernel headers:
# the native ones through the compiler (whatever form the header gives a number in), and on x86_64 the
# i386 ones from asm/unistd_32.h, which gives them as plain numbers.
{
  echo '/* made by build.sh from the kernel headers */'
  echo 'static const struct syscall_name SYSCALLS_NATIVE[] = {'
  printf '#include <sys/syscall.h>\n' | gcc -E -dM - | sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' | sort -u |
    grep -v '^syscalls$' | while read -r n; do printf '    {"%s", __NR_%s},\n' "$n" "$n"; done
  echo '};'
  u32=$(printf '#include <asm/unistd_32.h>\n' | gcc -E -H - 2>&1 >/dev/null | sed -n 's/^\. //p' | head -1 || true)
  if [ "$(uname -m)" = x86_64 ] && [ -n "$u32" ] && [ -r "$u32" ]; then
    echo '#define BERTH_SECCOMP_I386 1'
    echo 'static const struct syscall_name SYSCALLS_I386[] = {'
    sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$/    {"\1", \2},/p' "$u32"
    echo '};'
  fi
} > "$gen/syscalls.gen.h"
# -ffile-prefix-map keeps the binary identical wherever the sources are checked out.
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -s -ffile-prefix-map="$src"=. \
    -I"$gen" -DBERTH_HELPER_VERSION="\"$version\"" -o "$tmp" "$src"/main.c "$src"/spec.c "$src"/monitor.c \
    "$src"/container.c "$src"/process.c "$src"/userns.c "$src"/keeper.c "$src"/exec.c "$src"/ports.c "$src"/dialer.c "$src"/hold.c "$src"/attach.c "$src"/tty.c "$src"/netjoin.c "$src"/seccomp.c
mv -f "$tmp" "$out/berth-helper"
sha=$(sha256sum "$out/berth-helper" | cut -c1-64)
printf 'sha256=%s\narch=%s\n' "$sha" "$(uname -m)" > "$out/berth-helper.properties"

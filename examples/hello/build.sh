#!/usr/bin/env bash
# Compiles hello.c into a static binary and builds the image hello:latest from it with berth.
# Usage: examples/hello/build.sh [berth build options...]   (needs gcc and the static C library, libc6-dev)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gcc -static -Os -s -o "$here/hello" "$here/hello.c"
exec "$here/../../berth" build -t hello:latest "$@" "$here"

#!/usr/bin/env bash
# Pathological build inputs: each ends in bounded time and memory, with a build or a one-line error.
#
#   bench/inputs.sh [FILES]      (default 1000000: the size of the many-files context)
#
#   many-files    a context of FILES empty files in 1,000 directories, FROM scratch + COPY . /src: cold,
#                 then the rebuild with nothing changed (the cache's stat pass)
#   continuation  a Dockerfile of one ENV continued over 10,000 lines
#   nesting       ${a:-${a:-...}} nested 5,000 deep (refused: berth's bound is 200)
#   dockerignore  **/**/**/**/**/*a patterns against a 25-deep tree of 200 files
#   symlink-loop  a context whose symlinks loop (copied as links), then a COPY through the loop (refused)
# Prints wall seconds, peak RSS (target <= 300 MB) and the outcome of each. Needs python3, GNU time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
files=${1:-1000000}
work=${BENCH_DIR:-/var/tmp/berth-bench-inputs}
export BERTH_HOME=$work/home
mkdir -p "$work"
"$root/berth" version >/dev/null   # builds the jar once, outside the timings

rows=()
# measure NAME EXPECT CONTEXT: builds CONTEXT (its Dockerfile); EXPECT is ok or error
measure() {
  local name=$1 expect=$2 ctx=$3 code=0 outcome
  /usr/bin/time -f "%e %M" -o "$work/time" "$root/berth" build -q -t "inputs-${name// /-}:1" "$ctx" \
    >/dev/null 2>"$work/err" || code=$?
  read -r t m < <(tail -1 "$work/time")   # GNU time puts "Command exited ..." first on a failure
  if [ "$code" = 0 ]; then outcome=built; else outcome="exit $code: $(grep -v '^Command exited' "$work/err" | head -1)"; fi
  local lines; lines=$(grep -vc '^Command exited' "$work/err" || true)
  local verdict=ok
  if [ "$expect" = ok ] && [ "$code" != 0 ]; then verdict=FAILED; fi
  if [ "$expect" = error ] && { [ "$code" = 0 ] || [ "$lines" != 1 ]; }; then verdict=FAILED; fi
  [ "$m" -le $((300 * 1024)) ] || verdict="$verdict, RSS MISSED"
  rows+=("$(printf '%-22s %8.2f %7d  %-10s %s' "$name" "$t" $((m / 1024)) "$verdict" "${outcome:0:110}")")
  echo "inputs: $name: $t s, $((m / 1024)) MB, $outcome" >&2
}

# ---------------------------------------------------------------- many files
many=$work/many-$files
if [ ! -f "$many/Dockerfile" ]; then
  echo "inputs: making $files empty files (once; kept in $many)" >&2
  rm -rf "$many"; mkdir -p "$many"
  python3 - "$many" "$files" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in range(1000):
    os.makedirs(os.path.join(root, "d%03d" % d), exist_ok=True)
for i in range(n):
    open(os.path.join(root, "d%03d" % (i % 1000), "f%07d" % i), "wb").close()
with open(os.path.join(root, "Dockerfile"), "w") as f:
    f.write("FROM scratch\nCOPY . /src\n")
EOF
fi
"$root/berth" prune --build-cache >/dev/null 2>&1 || true
measure "many-files cold" ok "$many"
measure "many-files rebuild" ok "$many"

# ---------------------------------------------------------------- the others
mk() { rm -rf "$work/$1"; mkdir -p "$work/$1"; echo "$work/$1"; }
ctx=$(mk continuation)
python3 - "$ctx" <<'EOF'
import sys
with open(sys.argv[1] + "/Dockerfile", "w") as f:
    f.write("FROM scratch\nENV A=1 \\\n")
    for i in range(10_000):
        f.write("    B%d=%d \\\n" % (i, i))
    f.write("    C=$A\n")
EOF
measure continuation ok "$ctx"

ctx=$(mk nesting)
python3 - "$ctx" <<'EOF'
import sys
with open(sys.argv[1] + "/Dockerfile", "w") as f:
    f.write("FROM scratch\nENV X=" + "${a:-" * 5000 + "deep" + "}" * 5000 + "\n")
EOF
measure nesting error "$ctx"

ctx=$(mk dockerignore)
python3 - "$ctx" <<'EOF'
import os, sys
root = sys.argv[1]
d = root
for depth in range(25):
    d = os.path.join(d, "d%d" % depth)
    os.makedirs(d)
    for i in range(8):
        open(os.path.join(d, "f%da" % i), "w").close()
with open(os.path.join(root, ".dockerignore"), "w") as f:
    f.write("\n".join(["**/**/**/**/**/*a", "**/**/**/**/**/**/*b", "**/**/**/**/**/**/**/*c",
                       "!**/**/**/**/d24/**/*a"]) + "\n")
with open(os.path.join(root, "Dockerfile"), "w") as f:
    f.write("FROM scratch\nCOPY . /c\n")
EOF
measure dockerignore ok "$ctx"

ctx=$(mk symlink-loop)
ln -s b "$ctx/a"; ln -s a "$ctx/b"; ln -s self "$ctx/self"; mkdir "$ctx/d"; ln -s .. "$ctx/d/up"
printf 'FROM scratch\nCOPY . /c\n' > "$ctx/Dockerfile"
measure "symlink-loop copy" ok "$ctx"
printf 'FROM scratch\nCOPY d/up/d/up/a /c\n' > "$ctx/Dockerfile"
measure "symlink-loop follow" error "$ctx"

printf '\n%-22s %8s %7s  %-10s %s\n' input "wall s" "RSS MB" verdict outcome
printf '%s\n' "${rows[@]}"
printf '(targets: peak RSS <= 300 MB; an error is one line)\n'

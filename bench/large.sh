#!/usr/bin/env bash
# Speed where the work is large (issue: big images, many files). Sections so far:
#  build: berth build of a monorepo-like context of 100,000 files, about 500 MB (bench/lib/make-monorepo.py:
#         nine in ten source-like text files, one in ten incompressible binaries; FROM scratch + COPY . /src)
#         against buildah bud: the cold build (target <= 0.5x buildah's), the no-change rebuild (target
#         <= 0.5 s), a rebuild after touching one file, after changing one file (target <= 0.2x the cold
#         build) and after touching every file (a fresh checkout); berth's peak memory in each (target
#         300 MB).
# The generated data is kept in WORK (default /var/tmp/berth-bench-large) between runs: it is made once
# (about a minute) and only the homes and storages are made anew.
# Usage: bench/large.sh [RUNS] [build|all]   (default 3 all; medians, spreads (min..max) and runs are printed)
# Needs buildah (run as root), python3, bc, GNU time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
what=${2:-all}
work=${WORK:-/var/tmp/berth-bench-large}
mkdir -p "$work"
scratch=$(mktemp -d "$work/run.XXXXXX")
storage=(--root "$scratch/storage" --runroot "$scratch/runroot" --storage-driver overlay)
trap 'buildah "${storage[@]}" rm -a >/dev/null 2>&1 || true; buildah "${storage[@]}" rmi -a -f >/dev/null 2>&1 || true
      rm -rf "$scratch"' EXIT
for tool in buildah python3 bc; do
  command -v "$tool" >/dev/null || { echo "bench/large.sh: $tool is not installed" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench/large.sh: GNU time is not installed (apt-get install time)" >&2; exit 1; }
"$root/berth" version >/dev/null   # builds the jar once, outside the timings

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
spread() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.2f..%.2f", lo, hi}'; }
ratio() { echo "scale=2; $1 / $2" | bc; }
row() { # label, unit, values...
  local label=$1 unit=$2; shift 2
  printf '%-44s %8s %s  (spread %s; runs: %s)\n' "$label" "$(printf '%s\n' "$@" | median)" "$unit" \
    "$(printf '%s\n' "$@" | spread)" "$*"
}
# runs a berth command, timed; appends seconds to the array named $1 and peak KB to the array named $2
timed() {
  local -n times=$1 peaks=$2; shift 2
  local t0 t1
  t0=$(now)
  /usr/bin/time -f %M -o "$scratch/rss" "$@" >/dev/null 2>"$scratch/err" || { cat "$scratch/err" >&2; exit 1; }
  t1=$(now)
  times+=("$(secs "$t0" "$t1")"); peaks+=("$(tail -n1 "$scratch/rss")")
}

if [ "$what" = build ] || [ "$what" = all ]; then
ctx=$work/monorepo
if [ ! -f "$ctx/.complete" ]; then
  rm -rf "$ctx"
  python3 "$root/bench/lib/make-monorepo.py" "$ctx/tree" 100000 500 >/dev/null
  printf 'FROM scratch\nCOPY tree /src\n' > "$ctx/Dockerfile"
  touch "$ctx/.complete"
fi
one=$ctx/tree/d05/e05/f50500.src
cp "$one" "$scratch/one.orig"
# a warm-up build (the first after a jar build trains berth's start-up cache), untimed
BERTH_HOME=$scratch/warm "$root/berth" build -q -t large:warm "$ctx" >/dev/null; rm -rf "$scratch/warm"

load0=$(cut -d' ' -f1-3 /proc/loadavg)
cold=() same=() touch1=() change1=() touchall=() buildah_cold=()
cold_kb=() same_kb=() touch1_kb=() change1_kb=() touchall_kb=() none=()
for i in $(seq "$runs"); do
  export BERTH_HOME=$scratch/home-$i
  timed cold cold_kb "$root/berth" build -q -t large:1 "$ctx"
  timed same same_kb "$root/berth" build -q -t large:1 "$ctx"
  touch "$one"
  timed touch1 touch1_kb "$root/berth" build -q -t large:1 "$ctx"
  echo "changed in run $i" >> "$one"
  timed change1 change1_kb "$root/berth" build -q -t large:1 "$ctx"
  cp "$scratch/one.orig" "$one"
  find "$ctx/tree" -exec touch -h {} +
  timed touchall touchall_kb "$root/berth" build -q -t large:1 "$ctx"
  rm -rf "$BERTH_HOME"; unset BERTH_HOME
  buildah "${storage[@]}" rmi -a -f >/dev/null 2>&1 || true
  timed buildah_cold none buildah "${storage[@]}" bud --isolation chroot -q -t large:1 "$ctx"
done
bc_=$(printf '%s\n' "${cold[@]}" | median)
hc=$(printf '%s\n' "${buildah_cold[@]}" | median)
c1=$(printf '%s\n' "${change1[@]}" | median)
echo "load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "context: $(du -sh --apparent-size "$ctx/tree" | cut -f1), $(find "$ctx/tree" -type f | wc -l) files; $runs runs"
row "berth build, cold" s "${cold[@]}"
row "buildah bud, cold" s "${buildah_cold[@]}"
printf '%-44s %8s     (target <= 0.5)\n' "ratio berth/buildah, cold" "$(ratio "$bc_" "$hc")"
row "berth build, no change" s "${same[@]}"
echo "                                             (target <= 0.5 s)"
row "berth build, one file touched" s "${touch1[@]}"
row "berth build, one file changed" s "${change1[@]}"
printf '%-44s %8s     (target <= 0.2)\n' "ratio one file changed / cold" "$(ratio "$c1" "$bc_")"
row "berth build, every file touched" s "${touchall[@]}"
for k in cold same touch1 change1 touchall; do
  declare -n kb=${k}_kb
  mb=(); for v in "${kb[@]}"; do mb+=("$((v / 1024))"); done
  row "berth peak RSS, $k" MB "${mb[@]}"
done
echo "                                             (target <= 300 MB)"
fi

#!/usr/bin/env bash
# berth build vs buildah bud on the same context, in one run: FROM scratch + COPY of a tree of about 200 MB
# and 7,000 files (copied out of /usr by lib/make-tree.py), gzip, then a no-change rebuild.
# Usage: bench/build.sh [RUNS]   (default 3; medians are printed). Needs buildah (run as root), python3, bc.
# BERTH_COMPRESSION picks berth's layer compression (default gzip:1, berth build's default; e.g. gzip, zstd).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
compression=${BERTH_COMPRESSION:-gzip:1}
work=$(mktemp -d /var/tmp/berth-bench-build.XXXXXX)
trap 'buildah rmi -f berth-bench >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
command -v buildah >/dev/null || { echo "bench/build.sh: buildah is not installed (apt-get install buildah)" >&2; exit 1; }

mkdir -p "$work/ctx"
python3 "$root/bench/lib/make-tree.py" "$work/ctx/tree"
printf 'FROM scratch\nCOPY tree /\n' > "$work/ctx/Dockerfile"
"$root/berth" version >/dev/null   # builds the jar once, outside the timings

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
berth_first=() buildah_first=() berth_again=() berth_touched=()
for i in $(seq "$runs"); do
  export BERTH_HOME="$work/home-$i"
  # A first build: empty store and cache. The page cache is warm for both tools (the tree was just read).
  t0=$(now); "$root/berth" build -q --compression "$compression" -t bench:1 "$work/ctx" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }; t1=$(now)
  berth_first+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); "$root/berth" build -q --compression "$compression" -t bench:1 "$work/ctx" >/dev/null 2>&1; t1=$(now)
  berth_again+=("$(echo "$t1 - $t0" | bc)")
  find "$work/ctx/tree" -type f -exec touch {} +
  t0=$(now); "$root/berth" build -q --compression "$compression" -t bench:1 "$work/ctx" >/dev/null 2>&1; t1=$(now)
  berth_touched+=("$(echo "$t1 - $t0" | bc)")
  rm -rf "$BERTH_HOME"
  buildah rmi -f berth-bench >/dev/null 2>&1 || true
  t0=$(now); buildah bud --isolation chroot -q -t berth-bench "$work/ctx" >/dev/null 2>&1; t1=$(now)
  buildah_first+=("$(echo "$t1 - $t0" | bc)")
done

bf=$(printf '%s\n' "${berth_first[@]}" | median)
hf=$(printf '%s\n' "${buildah_first[@]}" | median)
ba=$(printf '%s\n' "${berth_again[@]}" | median)
bt=$(printf '%s\n' "${berth_touched[@]}" | median)
echo "load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tree: $(du -sh --apparent-size "$work/ctx/tree" | cut -f1), $(find "$work/ctx/tree" -type f | wc -l) files; $runs runs, medians"
printf '%-40s %8s s   (runs: %s)\n' "berth build, first ($compression)" "$bf" "${berth_first[*]}"
printf '%-40s %8s s   (runs: %s)\n' "buildah bud, first (to containers-storage)" "$hf" "${buildah_first[*]}"
printf '%-40s %8s     (target <= 0.5)\n' "ratio berth/buildah" "$(echo "scale=2; $bf / $hf" | bc)"
printf '%-40s %8s s   (target < 0.5; runs: %s)\n' "berth build, no change" "$ba" "${berth_again[*]}"
printf '%-40s %8s s   (runs: %s)\n' "berth build, every file touched" "$bt" "${berth_touched[*]}"

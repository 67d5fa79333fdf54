#!/usr/bin/env bash
# Layer writing: berth's LayerWriter against the shell pipelines it replaces, on one tree, in one run.
#
#   bench/layers.sh [RUNS]      (default 3 rounds, each command once per round; medians are printed)
#
# The tree (about 200 MB, 7,000 files) is copied out of this machine's /usr by bench/lib/make-tree.py.
# Targets: gzip layer <= 1.1x the pigz pipe on 2 cores; zstd <= 1.5x the zstd pipe; peak RSS <= 300 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/jdk.sh
berth_find_jdk
runs=${1:-3}
for tool in pigz zstd gzip sha256sum /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench/layers.sh: $tool is missing (apt-get install pigz zstd time)" >&2; exit 1; }
done
./berth build --help >/dev/null   # builds the jar when needed, and the start-up cache of the build commands
jar=cli/target/berth.jar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/lib/make-tree.py "$work/tree" >"$work/tree.txt"
echo "tree: $(cat "$work/tree.txt") ($(du -sh "$work/tree" | cut -f1) on disk), $(nproc) cores"
tar -C "$work/tree" -cf - . >/dev/null   # warm the page cache

# The commands run in turns, one run of each per round, so that a change in the machine's load falls on
# all of them alike; the medians of each one's wall times (seconds) are compared, berth's peak RSS kept.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
once() { # name, command...
  local name=$1; shift
  rm -rf "$work/layout"
  /usr/bin/time -f "%e %M" -o "$work/one" bash -c "$*" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  awk '{print $1}' "$work/one" >>"$work/$name.times"
  awk '{print $2}' "$work/one" >>"$work/$name.rss"
}
# berth's layer writer on its own, with the JVM options and start-up cache ./berth build uses
java_cmd="$JAVA_HOME/bin/java ${berth_jvm_opts[*]} -XX:AOTCache=cli/target/aot/build.aot -Xlog:disable -Xlog:all=error:stderr -cp $jar dev.berth.layers.tools.WriteLayer $work/tree $work/layout"
names=(berth-gzip berth-zstd tar-gzip tar-pigz tar-zstd)
for name in "${names[@]}"; do : >"$work/$name.times"; : >"$work/$name.rss"; done
for _ in $(seq "$runs"); do
  once berth-gzip "$java_cmd gzip"
  once berth-zstd "$java_cmd zstd"
  once tar-gzip "tar -C $work/tree -cf - . | gzip -6 | sha256sum"
  once tar-pigz "tar -C $work/tree -cf - . | pigz -6 | sha256sum"
  once tar-zstd "tar -C $work/tree -cf - . | zstd -3 -T0 | sha256sum"
done
t_gzip=$(median <"$work/berth-gzip.times")
t_zstd=$(median <"$work/berth-zstd.times")
t_tar_gzip=$(median <"$work/tar-gzip.times")
t_tar_pigz=$(median <"$work/tar-pigz.times")
t_tar_zstd=$(median <"$work/tar-zstd.times")
rss=$(sort -n "$work/berth-gzip.rss" "$work/berth-zstd.rss" | tail -1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
printf '%-34s %8s\n' "layer of the tree" "seconds"
printf '%-34s %8s\n' "berth gzip -6 (all cores)" "$t_gzip"
printf '%-34s %8s\n' "berth zstd -3 (all cores)" "$t_zstd"
printf '%-34s %8s\n' "tar | gzip -6 | sha256sum" "$t_tar_gzip"
printf '%-34s %8s\n' "tar | pigz -6 | sha256sum" "$t_tar_pigz"
printf '%-34s %8s\n' "tar | zstd -3 -T0 | sha256sum" "$t_tar_zstd"
echo
echo "berth gzip / gzip pipe:  $(ratio "$t_gzip" "$t_tar_gzip")"
echo "berth gzip / pigz pipe:  $(ratio "$t_gzip" "$t_tar_pigz")   (target <= 1.1x)"
echo "berth zstd / zstd pipe:  $(ratio "$t_zstd" "$t_tar_zstd")   (target <= 1.5x)"
echo "berth peak RSS:          $((rss / 1024)) MB   (target <= 300 MB)"
echo "rounds (s):              berth gzip $(tr '\n' ' ' <"$work/berth-gzip.times")| pigz pipe $(tr '\n' ' ' <"$work/tar-pigz.times")"

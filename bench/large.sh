#!/usr/bin/env bash
# Speed where the work is large (issue: big images, many layers, many files). Sections:
#  build: berth build of a monorepo-like context of 100,000 files, about 500 MB (bench/lib/make-monorepo.py:
#         nine in ten source-like text files, one in ten incompressible binaries; FROM scratch + COPY . /src)
#         against buildah bud: the cold build (target <= 0.5x buildah's), the no-change rebuild (target
#         <= 0.5 s), a rebuild after touching one file, after changing one file (target <= 0.2x the cold
#         build) and after touching every file (a fresh checkout); berth's peak memory in each (target
#         300 MB).
#  images: a 1 GB image of 20 gzip layers (1 MB to 250 MB, bench/lib/make-image.py) in a loopback
#         docker-registry: berth pull vs skopeo copy to an OCI layout (target <= 0.8x); berth pull + berth
#         run --rm IMAGE true vs podman pull + podman run --rm (target <= 0.3x); push to an empty registry
#         vs skopeo (target <= 0.8x) and then to a second repository of it, by mounts (target <= 0.5x).
#  concurrent: five pulls of five different 180 MB images at once into one store vs five skopeo copies at
#         once into one OCI layout; 20 `berth run --rm IMAGE true` at once vs 20 podman runs (targets
#         <= 0.8x; every command must succeed).
#  small: the first wave's figures, from bench/run.sh, bench/registry.sh and bench/layers.sh.
# The generated data is kept in WORK (default /var/tmp/berth-bench-large) between runs: it is made once
# (about a minute) and only the homes and storages are made anew.
# Usage: bench/large.sh [RUNS] [build|images|concurrent|small|all]   (default 3 all; medians, spreads
# (min..max) and runs are printed). Needs root, buildah, podman, skopeo, docker-registry, pigz, curl,
# python3, bc and GNU time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
what=${2:-all}
work=${WORK:-/var/tmp/berth-bench-large}
mkdir -p "$work"
scratch=$(mktemp -d "$work/run.XXXXXX")
runroots=$(mktemp -d /tmp/bl.XXXXXX)   # podman wants a run root of at most 50 characters
storage=(--root "$scratch/storage" --runroot "$scratch/runroot" --storage-driver overlay)
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
      for r in "$scratch"/podman-*; do [ -d "$r" ] && podman --root "$r/root" --runroot "$runroots/${r##*/podman-}" rmi -af >/dev/null 2>&1; done
      buildah "${storage[@]}" rm -a >/dev/null 2>&1 || true; buildah "${storage[@]}" rmi -a -f >/dev/null 2>&1 || true
      rm -rf "$scratch" "$runroots"' EXIT
for tool in buildah python3 bc; do
  command -v "$tool" >/dev/null || { echo "bench/large.sh: $tool is not installed" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench/large.sh: GNU time is not installed (apt-get install time)" >&2; exit 1; }
"$root/berth" version >/dev/null   # builds the jar once, outside the timings
# the first command of each group after a jar build trains its start-up cache (seconds): done here, untimed
for verb in pull run build push; do "$root/berth" "$verb" --help >/dev/null; done

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

# label, the arrays of berth's and the peer's times, the target ratio
ratio_row() {
  local -n a=$2 b=$3
  local r; r=$(ratio "$(printf '%s\n' "${a[@]}" | median)" "$(printf '%s\n' "${b[@]}" | median)")
  printf '%-44s %8s     (target <= %s: %s)\n' "$1" "$r" "$4" "$(echo "$r <= $4" | bc | sed 's/1/met/; s/0/MISSED/')"
}
# the peak RSS rows of the named timings (arrays NAME_kb)
peaks() {
  for k in "$@"; do
    local -n kb=${k}_kb
    local mb=() v; for v in "${kb[@]}"; do mb+=("$((v / 1024))"); done
    row "berth peak RSS, $k" MB "${mb[@]}"
  done
  echo "                                             (target <= 300 MB)"
}
pids=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_registry() { # DIR -> sets reg to host:port (not in $(...): the pid must reach the trap)
  local dir=$1 port; port=$(free_port); mkdir -p "$dir"
  printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s/data}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:%s, secret: bench}\n' \
    "$dir" "$port" > "$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done
  reg=127.0.0.1:$port
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
peaks cold same touch1 change1 touchall
fi


if [ "$what" = images ] || [ "$what" = all ]; then
# ---------------------------------------------------------------- a 1 GB image of 20 layers
for tool in docker-registry skopeo podman pigz curl; do
  command -v "$tool" >/dev/null || { echo "bench/large.sh: $tool is not installed" >&2; exit 1; }
done
image=$work/image-1g
[ -f "$image/index.json" ] || { rm -rf "$image.tmp"; python3 "$root/bench/lib/make-image.py" "$image.tmp" 1000 20 0 >/dev/null; mv "$image.tmp" "$image"; }
start_registry "$scratch/registry"; src=$reg
skopeo copy -q --dest-tls-verify=false "oci:$image:bench" "docker://$src/big:1"
export BERTH_CONFIG_DIR=$scratch/config   # no user configuration
pull=() pull_kb=() skopeo_pull=() first=() first_kb=() podman_first=() push=() push_kb=() skopeo_push=()
mount=() mount_kb=() skopeo_mount=() none=()
podman_run=(run --rm --runtime runc --cgroup-manager cgroupfs --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$runs"); do
  # 1. pull into an empty store vs skopeo into an empty OCI layout
  sync
  timed pull pull_kb env BERTH_HOME="$scratch/pull-$i" "$root/berth" pull -q "$src/big:1"
  sync
  timed skopeo_pull none skopeo copy -q --src-tls-verify=false "docker://$src/big:1" "oci:$scratch/skopeo-$i:big"
  # 2. pull + first run (download, verify, extract, start) into empty homes / storage roots
  proot=(--root "$scratch/podman-$i/root" --runroot "$runroots/$i")
  sync
  timed podman_first none bash -c "podman ${proot[*]} pull -q --tls-verify=false $src/big:1 && podman ${proot[*]} ${podman_run[*]} $src/big:1 true"
  sync
  timed first first_kb bash -c "BERTH_HOME=$scratch/first-$i $root/berth pull -q $src/big:1 && BERTH_HOME=$scratch/first-$i $root/berth run --rm $src/big:1 true"
  # 3. push to an empty repository of a fresh registry, then to a second repository of it (mounts)
  start_registry "$scratch/dest-b-$i"; dst=$reg
  timed push push_kb env BERTH_HOME="$scratch/pull-$i" "$root/berth" push -q "$src/big:1" "$dst/big:1"
  timed mount mount_kb env BERTH_HOME="$scratch/pull-$i" "$root/berth" push -q "$src/big:1" "$dst/other:1"
  start_registry "$scratch/dest-s-$i"; dst=$reg
  timed skopeo_push none skopeo copy -q --dest-tls-verify=false "oci:$scratch/skopeo-$i:big" "docker://$dst/big:1"
  timed skopeo_mount none skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$dst/big:1" "docker://$dst/other:1"
  kill "${pids[-1]}" "${pids[-2]}" 2>/dev/null || true
  echo "run $i: pull ${pull[-1]} / ${skopeo_pull[-1]}; first run ${first[-1]} / ${podman_first[-1]};" \
       "push ${push[-1]} / ${skopeo_push[-1]}; mount ${mount[-1]} / ${skopeo_mount[-1]}" >&2
done
echo "load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "image: $(du -cb "$image"/blobs/sha256/* | tail -1 | awk '{printf "%d MB", $1 / 1e6}') of gzip blobs, 20 layers; $runs runs"
row "berth pull" s "${pull[@]}"
row "skopeo copy docker:// oci:" s "${skopeo_pull[@]}"
ratio_row "ratio pull, berth/skopeo" pull skopeo_pull 0.8
row "berth pull + berth run --rm true" s "${first[@]}"
row "podman pull + podman run --rm true" s "${podman_first[@]}"
ratio_row "ratio pull + first run, berth/podman" first podman_first 0.3
row "berth push (empty registry)" s "${push[@]}"
row "skopeo copy oci: docker:// (empty registry)" s "${skopeo_push[@]}"
ratio_row "ratio push, berth/skopeo" push skopeo_push 0.8
row "berth push (second repository: mounts)" s "${mount[@]}"
row "skopeo copy (second repository: mounts)" s "${skopeo_mount[@]}"
ratio_row "ratio mount push, berth/skopeo" mount skopeo_mount 0.5
peaks pull first push mount
fi


if [ "$what" = concurrent ] || [ "$what" = all ]; then
# ---------------------------------------------------------------- five pulls at once, twenty runs at once
for tool in docker-registry skopeo podman pigz curl; do
  command -v "$tool" >/dev/null || { echo "bench/large.sh: $tool is not installed" >&2; exit 1; }
done
for n in 1 2 3 4 5; do
  d=$work/image-c$n
  [ -f "$d/index.json" ] || { rm -rf "$d.tmp"; python3 "$root/bench/lib/make-image.py" "$d.tmp" 180 4 "$n" >/dev/null; mv "$d.tmp" "$d"; }
done
start_registry "$scratch/registry-c"; src=$reg
for n in 1 2 3 4 5; do skopeo copy -q --dest-tls-verify=false "oci:$work/image-c$n:bench" "docker://$src/c$n:1"; done
export BERTH_CONFIG_DIR=$scratch/config
podman_run=(run --rm --runtime runc --cgroup-manager cgroupfs --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
# all of a command's instances at once; the wall time to the last one's end; fails when any one fails
together() { # label array command-with-{} (each instance gets its number for {})
  local -n out=$2; local cmd=$3 t0 t1 n failed=0 ps=()
  t0=$(now)
  for n in $(seq "$count"); do bash -c "${cmd//\{\}/$n}" >"$scratch/together-$n.log" 2>&1 & ps+=($!); done
  for n in "${!ps[@]}"; do wait "${ps[$n]}" || { failed=1; echo "$1, instance $((n + 1)) failed:" >&2; cat "$scratch/together-$((n + 1)).log" >&2; }; done
  t1=$(now)
  [ "$failed" = 0 ] || exit 1
  out+=("$(secs "$t0" "$t1")")
}
cpull=() skopeo_cpull=() crun=() podman_crun=()
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$runs"); do
  sync; count=5
  together "berth pull" cpull "BERTH_HOME=$scratch/cpull-$i $root/berth pull -q $src/c{}:1"
  sync
  together "skopeo copy" skopeo_cpull "skopeo copy -q --src-tls-verify=false docker://$src/c{}:1 oci:$scratch/cskopeo-$i:c{}"
  [ "$(BERTH_HOME=$scratch/cpull-$i "$root/berth" images -q | wc -l)" = 5 ] || { echo "bench/large.sh: the five pulls did not leave five images" >&2; exit 1; }
  # twenty runs of one pulled image at once (its snapshots made by the pull, or by a first run)
  BERTH_HOME=$scratch/cpull-$i "$root/berth" run --rm "$src/c1:1" true
  proot=(--root "$scratch/podman-c$i/root" --runroot "$runroots/c$i")
  podman "${proot[@]}" pull -q --tls-verify=false "$src/c1:1" >/dev/null
  podman "${proot[@]}" "${podman_run[@]}" "$src/c1:1" true
  count=20
  together "berth run" crun "BERTH_HOME=$scratch/cpull-$i $root/berth run --rm $src/c1:1 true"
  together "podman run" podman_crun "podman ${proot[*]} ${podman_run[*]} $src/c1:1 true"
  rm -rf "$scratch/cpull-$i" "$scratch/cskopeo-$i"
  echo "run $i: 5 pulls ${cpull[-1]} / ${skopeo_cpull[-1]}; 20 runs ${crun[-1]} / ${podman_crun[-1]}" >&2
done
echo "load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "images: 5 of $(du -cb "$work"/image-c1/blobs/sha256/* | tail -1 | awk '{printf "%d MB", $1 / 1e6}') each (4 layers); $runs runs"
row "5 berth pulls at once, one store" s "${cpull[@]}"
row "5 skopeo copies at once, one OCI layout" s "${skopeo_cpull[@]}"
ratio_row "ratio 5 pulls, berth/skopeo" cpull skopeo_cpull 0.8
row "20 berth run --rm true at once" s "${crun[@]}"
row "20 podman run --rm true at once" s "${podman_crun[@]}"
ratio_row "ratio 20 runs, berth/podman" crun podman_crun 0.8
fi


if [ "$what" = small ] || [ "$what" = all ]; then
# ---------------------------------------------------------------- the first wave's figures, in this report
small_runs=$((runs < 3 ? 3 : runs))
for b in layers registry run; do
  echo "== bench/$b.sh $small_runs" >&2
  "$root/bench/$b.sh" "$small_runs" >"$scratch/small-$b.out" 2>&1 || { cat "$scratch/small-$b.out" >&2; exit 1; }
done
echo "bench/layers.sh:"; grep -E 'target|/ pigz' "$scratch/small-layers.out" | sed 's/^/  /'
echo "bench/registry.sh:"; grep -E '^(work|pull|push|re-push) ' "$scratch/small-registry.out" | sed 's/^/  /'
echo "bench/run.sh:"; grep -E 'berth / |target|rootless berth / ' "$scratch/small-run.out" | sed 's/^/  /'
fi

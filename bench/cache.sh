#!/usr/bin/env bash
# The registry build cache: berth build --cache-from against buildah bud --cache-from, on one local registry.
# The context is the build bench's "copy" tree (about 200 MB and 7,000 files, lib/make-tree.py) behind a
# busybox COPY and a RUN step:
#   FROM scratch / COPY busybox /bin/busybox / RUN busybox sh -c 'mkdir /work; dd 20 MB to /work/blob' /
#   COPY tree /tree
# Runner A builds it from one copy of the context and writes its cache to the registry (--cache-to
# type=registry,mode=max; untimed, it also warms berth up). Then, each run, on a second copy of the context
# at another path with other mtimes (a CI runner's fresh checkout):
#   berth cold        a fresh BERTH_HOME (runner B), a plain build;
#   berth cache-from  another fresh BERTH_HOME (runner C), --cache-from the registry: every step must be
#                     CACHED and the image digest must be A's (SOURCE_DATE_EPOCH is set), else this fails;
#   buildah cold      a fresh storage, buildah bud --layers (for reference);
#   buildah cache-from a fresh storage, buildah bud --layers --cache-from the registry (seeded once by a
#                     buildah bud --cache-to from the first copy); a miss of buildah's is reported, not fatal.
# berth's timed builds are -q ones: without -q, a build ends with a one-line analysis of the image (about
# 0.8 s of this image, on runner B as on runner C), which is not the cache's work. Before the runs, one
# runner C build with --progress plain checks that every step is CACHED and the digest is A's.
# Prints the medians and the runs, the ratios berth cache-from / berth cold (target <= 0.2) and
# berth cache-from / buildah cache-from (target <= 1.0), and the blobs runner C downloaded per build
# (GET .../blobs/ in the registry's access log) against the image's layers plus one (the keys document).
# Usage: bench/cache.sh [RUNS]   (default 3)
# Needs docker-registry, buildah (run as root), busybox-static, python3, curl, bc.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
for tool in docker-registry buildah python3 curl bc; do
  command -v "$tool" >/dev/null || { echo "bench/cache.sh: $tool is not installed" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "bench/cache.sh: /bin/busybox is missing (apt-get install busybox-static)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/berth-bench-cache.XXXXXX)
reg_pid=
storages=()   # every buildah storage made (root:runroot), emptied by buildah before the work dir goes
cleanup() {
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null || true
  for s in "${storages[@]}"; do
    buildah --root "${s%%:*}" --runroot "${s#*:}" --storage-driver overlay rm -a >/dev/null 2>&1 || true
    buildah --root "${s%%:*}" --runroot "${s#*:}" --storage-driver overlay rmi -a -f >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
export BERTH_CONFIG_DIR=$work/config          # no user configuration
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
"$root/berth" version >/dev/null               # builds the jar once, outside the timings

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
ratio() { echo "scale=2; $1 / $2" | bc; }
secs() { printf '%.2f' "$(echo "$2 - $1" | bc)"; }   # secs T0 T1: the seconds between, rounded
fail() { echo "bench/cache.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- the registry
start_registry() {
  local port
  for _ in $(seq 20); do
    port=$((5000 + RANDOM % 1000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue   # something listens there already
    mkdir -p "$work/registry"
    cat > "$work/registry/config.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $work/registry/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: bench}
EOF
    docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
    reg_pid=$!
    for _ in $(seq 100); do
      kill -0 "$reg_pid" 2>/dev/null || break
      if curl -sf "http://127.0.0.1:$port/v2/" >/dev/null; then reg=127.0.0.1:$port; return 0; fi
      sleep 0.05
    done
    kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; reg_pid=
  done
  cat "$work/registry/log" >&2
  fail "cannot start docker-registry on a free port"
}
start_registry
log=$work/registry/log
berth_ref=$reg/berth-cache:bench
buildah_ref=$reg/buildah-cache

# ---------------------------------------------------------------- the contexts
ctx1=$work/ctx1 ctx2=$work/elsewhere/ctx2
mkdir -p "$ctx1" "$(dirname "$ctx2")"
python3 "$root/bench/lib/make-tree.py" "$ctx1/tree" >/dev/null
cp /bin/busybox "$ctx1/busybox"
cat > "$ctx1/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /work && /bin/busybox dd if=/dev/zero of=/work/blob bs=1M count=20 2>/dev/null"]
COPY tree /tree
EOF
steps=3   # the steps after FROM, each of which a cache must hit
# the second runner's checkout: the same content at another path, every mtime another (-h: the links
# themselves, never what they point to)
cp -a "$ctx1" "$ctx2"
find "$ctx2" -exec touch -h -d '2001-02-03' {} +

# berth's output: the image digest ("writing image sha256:..."), and the steps it marked CACHED
digest_of() { sed -n 's/^writing image \(sha256:[0-9a-f]*\).*/\1/p' "$1" | tail -1; }
cached_of() { grep -cE '^\[[0-9]+/[0-9]+\] .* CACHED$' "$1" || true; }

# ---------------------------------------------------------------- runner A (berth) and buildah's seed
# Untimed: A's build is also berth's warm-up (the first build after a jar build trains its AOT cache).
BERTH_HOME=$work/home-a "$root/berth" build --progress plain -t cache:bench \
  --cache-to "type=registry,ref=$berth_ref,mode=max" "$ctx1" >"$work/a.out" 2>&1 \
  || { cat "$work/a.out" >&2; fail "runner A's build failed"; }
grep -q '^exporting cache to ' "$work/a.out" || { cat "$work/a.out" >&2; fail "runner A wrote no cache"; }
grep -q -- '--cache-to ' "$work/a.out" && { cat "$work/a.out" >&2; fail "runner A's cache export warned"; }
digest_a=$(digest_of "$work/a.out")
[ -n "$digest_a" ] || { cat "$work/a.out" >&2; fail "no image digest in runner A's output"; }
layers=$(sed -n 's/^image .* in \([0-9]*\) layers\?$/\1/p' "$work/a.out" | tail -1)

seed=$work/buildah-seed; storages+=("$seed/root:$seed/runroot")
buildah --root "$seed/root" --runroot "$seed/runroot" --storage-driver overlay bud --layers --isolation chroot \
  --cache-to "$buildah_ref" --tls-verify=false -t cache:bench "$ctx1" >"$work/h-seed.out" 2>&1 \
  || { cat "$work/h-seed.out" >&2; fail "buildah's seed build failed"; }

# Untimed: a runner C build that shows its steps, each of which must be CACHED.
BERTH_HOME=$work/home-check "$root/berth" build --progress plain -t cache:bench \
  --cache-from "type=registry,ref=$berth_ref" "$ctx2" >"$work/check.out" 2>&1 \
  || { cat "$work/check.out" >&2; fail "runner C's checked build failed"; }
hits=$(cached_of "$work/check.out")
[ "$hits" -eq "$steps" ] || { cat "$work/check.out" >&2; fail "runner C's build marked $hits of $steps steps CACHED"; }
[ "$(digest_of "$work/check.out")" = "$digest_a" ] || { cat "$work/check.out" >&2; fail "runner C made another digest"; }
rm -rf "$work/home-check"

# ---------------------------------------------------------------- the runs
load0=$(cut -d' ' -f1-3 /proc/loadavg)
berth_cold=() berth_from=() buildah_cold=() buildah_from=() blobs=() buildah_hits=() b_digests=()
for i in $(seq "$runs"); do
  # runner B: berth, nothing cached
  export BERTH_HOME=$work/home-b-$i
  t0=$(now); "$root/berth" build -q -t cache:bench "$ctx2" >"$work/b.out" 2>&1 \
    || { cat "$work/b.out" >&2; fail "runner B's build failed"; }; t1=$(now)
  berth_cold+=("$(secs "$t0" "$t1")"); b_digests+=("$(grep -o 'sha256:[0-9a-f]*' "$work/b.out" | tail -1)")
  rm -rf "$BERTH_HOME"

  # runner C: berth --cache-from
  export BERTH_HOME=$work/home-c-$i
  n0=$(wc -l < "$log")
  t0=$(now); "$root/berth" build -q -t cache:bench --cache-from "type=registry,ref=$berth_ref" "$ctx2" \
    >"$work/c.out" 2>&1 || { cat "$work/c.out" >&2; fail "runner C's build failed"; }; t1=$(now)
  berth_from+=("$(secs "$t0" "$t1")")
  blobs+=("$(tail -n +"$((n0 + 1))" "$log" | grep -c '"GET /v2/berth-cache/blobs/' || true)")
  grep -q -- '--cache-from ' "$work/c.out" && { cat "$work/c.out" >&2; fail "run $i: runner C could not read the cache"; }
  digest_c=$(grep -o 'sha256:[0-9a-f]*' "$work/c.out" | tail -1)
  [ "$digest_c" = "$digest_a" ] || { cat "$work/c.out" >&2; fail "run $i: runner C made $digest_c, runner A $digest_a"; }
  rm -rf "$BERTH_HOME"; unset BERTH_HOME

  # buildah, cold and --cache-from, each on a fresh storage
  for kind in cold from; do
    s=$work/buildah-$kind-$i; storages+=("$s/root:$s/runroot")
    flags=(); [ "$kind" = from ] && flags=(--cache-from "$buildah_ref" --tls-verify=false)
    t0=$(now)
    buildah --root "$s/root" --runroot "$s/runroot" --storage-driver overlay bud --layers --isolation chroot \
      "${flags[@]}" -t cache:bench "$ctx2" >"$work/h-$kind.out" 2>&1 \
      || { cat "$work/h-$kind.out" >&2; fail "run $i: buildah bud ($kind) failed"; }
    t1=$(now)
    if [ "$kind" = cold ]; then buildah_cold+=("$(secs "$t0" "$t1")")
    else buildah_from+=("$(secs "$t0" "$t1")"); buildah_hits+=("$(grep -c '^--> Using cache ' "$work/h-from.out" || true)")
    fi
    buildah --root "$s/root" --runroot "$s/runroot" --storage-driver overlay rmi -a -f >/dev/null 2>&1 || true
    rm -rf "$s"
  done
  echo "bench/cache.sh: run $i: berth cold ${berth_cold[-1]} s, --cache-from ${berth_from[-1]} s" \
       "(${blobs[-1]} blobs); buildah cold ${buildah_cold[-1]} s, --cache-from ${buildah_from[-1]} s" \
       "(${buildah_hits[-1]} of $steps steps from the cache)" >&2
done

# ---------------------------------------------------------------- the report
bc_=$(printf '%s\n' "${berth_cold[@]}" | median); bf=$(printf '%s\n' "${berth_from[@]}" | median)
hc=$(printf '%s\n' "${buildah_cold[@]}" | median); hf=$(printf '%s\n' "${buildah_from[@]}" | median)
blob_sum=0; for n in "${blobs[@]}"; do blob_sum=$((blob_sum + n)); done
echo "load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "context: $(du -sh --apparent-size "$ctx2/tree" | cut -f1) in $(find "$ctx2/tree" -type f | wc -l) files" \
     "+ busybox + a RUN of 20 MB; the image: ${layers:-?} layers; $runs runs, medians"
printf '%-40s %8s s   (runs: %s)\n' "berth build, cold (runner B)" "$bc_" "${berth_cold[*]}"
printf '%-40s %8s s   (runs: %s)\n' "berth build --cache-from (runner C)" "$bf" "${berth_from[*]}"
printf '%-40s %8s s   (runs: %s)\n' "buildah bud --layers, cold" "$hc" "${buildah_cold[*]}"
printf '%-40s %8s s   (runs: %s)\n' "buildah bud --layers --cache-from" "$hf" "${buildah_from[*]}"
printf '%-40s %8s     (target <= 0.2)\n' "ratio berth cache-from / berth cold" "$(ratio "$bf" "$bc_")"
printf '%-40s %8s     (target <= 1.0)\n' "ratio berth / buildah, cache-from" "$(ratio "$bf" "$hf")"
printf '%-40s %8s     (buildah cold / buildah cache-from: %s)\n' "ratio berth / buildah, cold" "$(ratio "$bc_" "$hc")" \
  "$(ratio "$hc" "$hf")"
printf '%-40s %8s     (layers + keys document: %s; runs: %s)\n' "blobs runner C downloaded, per build" \
  "$(echo "scale=1; $blob_sum / $runs" | bc)" "$(( ${layers:-0} + 1 ))" "${blobs[*]}"
echo "berth: every step CACHED on runner C, its digest runner A's ($digest_a) in every run"
same=0; for d in "${b_digests[@]}"; do [ "$d" = "$digest_a" ] && same=$((same + 1)); done
echo "berth: runner B's cold builds (other mtimes, no cache) made runner A's digest in $same of $runs runs"
for h in "${buildah_hits[@]}"; do
  if [ "$h" -lt "$steps" ]; then
    echo "buildah: its --cache-from hit only ${buildah_hits[*]} of $steps steps in the runs (another path, other mtimes)"
    break
  fi
done

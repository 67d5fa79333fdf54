#!/usr/bin/env bash
# berth build against buildah bud (and podman build) on the same contexts, in one run:
#  copy: FROM scratch + COPY of a tree of about 200 MB and 7,000 files (copied out of /usr by
#        lib/make-tree.py), gzip, then a no-change rebuild and a rebuild with every file touched;
#  run:  ten small RUN steps on a busybox base (from busybox-static), cold (nothing cached) and fully
#        cached, with berth's peak memory and the time per RUN step.
#  platforms: the cross-compile pattern for linux/amd64 and linux/arm64 in one build: a
#        FROM --platform=$BUILDPLATFORM busybox stage picks the static binary for $TARGETARCH (compiled here
#        with gcc and aarch64-linux-gnu-gcc), a FROM scratch stage takes it; berth build --platform against
#        buildah bud --platform ... --manifest, cold.
# Usage: bench/build.sh [RUNS] [copy|run|platforms|all]   (default 3 all; medians are printed).
# Needs buildah and podman (run as root), busybox-static, skopeo, python3, bc, GNU time.
# BERTH_COMPRESSION picks berth's layer compression (default gzip:1, berth build's default; e.g. gzip, zstd).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
what=${2:-all}
compression=${BERTH_COMPRESSION:-gzip:1}
work=$(mktemp -d /var/tmp/berth-bench-build.XXXXXX)
storage=(--root "$work/storage" --runroot "$work/runroot" --storage-driver overlay)
trap 'buildah rmi -f berth-bench >/dev/null 2>&1 || true; buildah "${storage[@]}" rm -a >/dev/null 2>&1 || true
      buildah "${storage[@]}" rmi -a -f >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
command -v buildah >/dev/null || { echo "bench/build.sh: buildah is not installed (apt-get install buildah)" >&2; exit 1; }
"$root/berth" version >/dev/null   # builds the jar once, outside the timings

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
ratio() { echo "scale=2; $1 / $2" | bc; }

if [ "$what" = copy ] || [ "$what" = all ]; then

mkdir -p "$work/ctx"
python3 "$root/bench/lib/make-tree.py" "$work/ctx/tree"
printf 'FROM scratch\nCOPY tree /\n' > "$work/ctx/Dockerfile"

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
rm -rf "$work/ctx"
fi

bench_base() { # the busybox base, built by berth, in buildah's and podman's storage too (once)
  [ -d "$work/base-oci" ] && return 0
  mkdir -p "$work/base/rootfs/bin" "$work/base/rootfs/etc" "$work/base/rootfs/tmp"
  cp /bin/busybox "$work/base/rootfs/bin/"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$work/base/rootfs/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$work/base/rootfs/etc/passwd"
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\n' > "$work/base/Dockerfile"
  BERTH_HOME="$work/base-home" "$root/berth" build -q -t busybox:bench -o "oci:$work/base-oci" "$work/base" >/dev/null
  skopeo copy -q "oci:$work/base-oci:docker.io/library/busybox:bench" \
    "containers-storage:[overlay@$work/storage+$work/runroot]docker.io/library/busybox:bench" 2>/dev/null
}

if [ "$what" = run ] || [ "$what" = all ]; then
command -v podman >/dev/null || { echo "bench/build.sh: podman is not installed (apt-get install podman)" >&2; exit 1; }
# The base: busybox-static and its applets, built by berth (FROM scratch + COPY), handed to buildah's and
# podman's storage through an OCI layout.
mkdir -p "$work/runctx"
bench_base
{ echo "FROM busybox:bench"; for n in $(seq 1 10); do echo "RUN echo $n > /f$n && ls / > /dev/null"; done; } \
  > "$work/runctx/Dockerfile"

berth_cold=() berth_cached=() buildah_cold=() buildah_cached=() podman_cold=() podman_cached=() rss=()
for i in $(seq "$runs"); do
  # berth, cold: a new home holding only the base (its layer not extracted yet), nothing cached
  export BERTH_HOME="$work/run-home-$i"
  "$root/berth" build -q -t busybox:bench "$work/base" >/dev/null
  t0=$(now)
  /usr/bin/time -f %M -o "$work/rss" "$root/berth" build -q -t run:bench "$work/runctx" >/dev/null 2>"$work/err" \
    || { cat "$work/err"; exit 1; }
  t1=$(now)
  berth_cold+=("$(echo "$t1 - $t0" | bc)"); rss+=("$(cat "$work/rss")")
  t0=$(now); "$root/berth" build -q -t run:bench "$work/runctx" >/dev/null 2>&1; t1=$(now)
  berth_cached+=("$(echo "$t1 - $t0" | bc)")
  rm -rf "$BERTH_HOME"
  # buildah and podman, cold: --no-cache (their storage keeps the base); then fully cached with --layers
  t0=$(now); buildah "${storage[@]}" bud --pull=never --layers --no-cache -q -t run:bench "$work/runctx" >/dev/null 2>&1; t1=$(now)
  buildah_cold+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); buildah "${storage[@]}" bud --pull=never --layers -q -t run:bench "$work/runctx" >/dev/null 2>&1; t1=$(now)
  buildah_cached+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); podman "${storage[@]}" build --pull=never --layers --no-cache -q -t run:pbench "$work/runctx" >/dev/null 2>&1; t1=$(now)
  podman_cold+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); podman "${storage[@]}" build --pull=never --layers -q -t run:pbench "$work/runctx" >/dev/null 2>&1; t1=$(now)
  podman_cached+=("$(echo "$t1 - $t0" | bc)")
done
bc_=$(printf '%s\n' "${berth_cold[@]}" | median); bk=$(printf '%s\n' "${berth_cached[@]}" | median)
hc=$(printf '%s\n' "${buildah_cold[@]}" | median); hk=$(printf '%s\n' "${buildah_cached[@]}" | median)
pc=$(printf '%s\n' "${podman_cold[@]}" | median); pk=$(printf '%s\n' "${podman_cached[@]}" | median)
mem=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
echo "10 RUN steps on busybox; $runs runs, medians"
printf '%-40s %8s s   (runs: %s)\n' "berth build, cold" "$bc_" "${berth_cold[*]}"
printf '%-40s %8s s   (runs: %s)\n' "buildah bud --layers --no-cache" "$hc" "${buildah_cold[*]}"
printf '%-40s %8s s   (runs: %s)\n' "podman build --layers --no-cache" "$pc" "${podman_cold[*]}"
printf '%-40s %8s     (target <= 0.5; podman: %s)\n' "ratio berth/buildah, cold" "$(ratio "$bc_" "$hc")" "$(ratio "$bc_" "$pc")"
printf '%-40s %8s s   (per RUN step: berth %s s, buildah %s s)\n' "" "" "$(echo "scale=3; $bc_ / 10" | bc)" \
  "$(echo "scale=3; $hc / 10" | bc)"
printf '%-40s %8s s   (target <= 0.5; runs: %s)\n' "berth build, fully cached" "$bk" "${berth_cached[*]}"
printf '%-40s %8s s   (runs: %s)\n' "buildah bud --layers, fully cached" "$hk" "${buildah_cached[*]}"
printf '%-40s %8s s   (runs: %s)\n' "podman build --layers, fully cached" "$pk" "${podman_cached[*]}"
printf '%-40s %8s     (target <= 0.3; podman: %s)\n' "ratio berth/buildah, cached" "$(ratio "$bk" "$hk")" "$(ratio "$bk" "$pk")"
printf '%-40s %8s MB  (target <= 300)\n' "berth peak RSS, cold" "$((mem / 1024))"
fi

if [ "$what" = platforms ] || [ "$what" = all ]; then
for tool in aarch64-linux-gnu-gcc gcc; do
  command -v "$tool" >/dev/null || { echo "bench/build.sh: $tool is not installed (gcc-aarch64-linux-gnu)" >&2; exit 1; }
done
bench_base
# buildah (Debian's 1.28) resolves a FROM --platform=$BUILDPLATFORM base for the target platform, so it gets
# the base as a two-platform list: the amd64 busybox and Debian's arm64 busybox-static (its arm64 build stage
# then runs under QEMU; berth's runs natively, as the Dockerfile asks)
mkdir -p "$work/arm64"
(cd "$work/arm64" && apt-get download busybox-static:arm64 >/dev/null 2>&1 && dpkg-deb -x busybox-static_*_arm64.deb deb) \
  || { echo "bench/build.sh: cannot download busybox-static:arm64 (dpkg --add-architecture arm64; apt-get update)" >&2; exit 1; }
c=$(buildah "${storage[@]}" from --arch arm64 scratch)
buildah "${storage[@]}" copy "$c" "$work/arm64/deb/bin/busybox" /bin/busybox >/dev/null
for a in sh cp ls; do buildah "${storage[@]}" run "$c" -- /bin/busybox ln -s busybox "/bin/$a"; done
buildah "${storage[@]}" config --env PATH=/bin "$c"
arm64=$(buildah "${storage[@]}" commit -q "$c")
buildah "${storage[@]}" tag docker.io/library/busybox:bench docker.io/library/busybox:bench-amd64
buildah "${storage[@]}" rmi docker.io/library/busybox:bench >/dev/null
buildah "${storage[@]}" manifest create docker.io/library/busybox:bench docker.io/library/busybox:bench-amd64 "$arm64" >/dev/null
mkdir -p "$work/xctx"
printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' > "$work/xctx/hello.c"
gcc -static -O2 -o "$work/xctx/hello-amd64" "$work/xctx/hello.c"
aarch64-linux-gnu-gcc -static -O2 -o "$work/xctx/hello-arm64" "$work/xctx/hello.c"
cat > "$work/xctx/Dockerfile" <<'EOF'
FROM --platform=$BUILDPLATFORM busybox:bench AS build
ARG TARGETARCH
COPY hello-amd64 hello-arm64 /src/
RUN cp /src/hello-$TARGETARCH /hello && ls -l /hello > /dev/null
FROM scratch
COPY --from=build /hello /hello
ENTRYPOINT ["/hello"]
EOF
berth_x=() buildah_x=()
for i in $(seq "$runs"); do
  export BERTH_HOME="$work/x-home-$i"
  "$root/berth" build -q -t busybox:bench "$work/base" >/dev/null
  t0=$(now)
  "$root/berth" build -q --platform linux/amd64,linux/arm64 -t x:bench "$work/xctx" >/dev/null 2>"$work/err" \
    || { cat "$work/err"; exit 1; }
  t1=$(now); berth_x+=("$(echo "$t1 - $t0" | bc)")
  rm -rf "$BERTH_HOME"
  buildah "${storage[@]}" manifest rm "x:bench-$i" >/dev/null 2>&1 || true
  t0=$(now)
  buildah "${storage[@]}" bud --pull=never --layers --no-cache -q --platform linux/amd64,linux/arm64 \
    --manifest "x:bench-$i" "$work/xctx" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  t1=$(now); buildah_x+=("$(echo "$t1 - $t0" | bc)")
done
bx=$(printf '%s\n' "${berth_x[@]}" | median); hx=$(printf '%s\n' "${buildah_x[@]}" | median)
echo "cross-compile for linux/amd64 and linux/arm64 in one build; $runs runs, medians"
printf '%-40s %8s s   (runs: %s)\n' "berth build --platform a,b" "$bx" "${berth_x[*]}"
printf '%-40s %8s s   (runs: %s)\n' "buildah bud --platform a,b --manifest" "$hx" "${buildah_x[*]}"
printf '%-40s %8s     (target <= 0.5)\n' "ratio berth/buildah" "$(ratio "$bx" "$hx")"
fi

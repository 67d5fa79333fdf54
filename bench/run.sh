#!/usr/bin/env bash
# Container start-up: `berth run --rm IMAGE true` against `podman run --rm` (runc, cgroupfs) and `runc run`
# on a prepared bundle, in one hyperfine run; a 200 MB image against a 2 MB one; and the first run of a
# freshly pulled 200 MB image against `podman pull` + `podman run`.
#
#   bench/run.sh [RUNS]          (default 20 timed runs per command after 3 warm-ups; needs root)
#
# Images are built once (busybox-static, and busybox plus a 200 MB tree copied from /usr by
# bench/lib/make-tree.py) with buildah into podman's store and copied into a berth home of their own,
# kept in $BENCH_WORK (default /var/tmp/berth-bench-run) between invocations.
# Targets: berth <= 0.7x podman; the 200 MB image <= 1.1x the 2 MB one; berth pull + berth run (extract +
# start) of the 200 MB image <= 0.5x podman pull + podman run; `run -d` + `exec true` + `stop` <= 0.8x
# podman's. Then the same as a user who is not root (see "rootless" below).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-20}
[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh: run as root (containers need it)" >&2; exit 1; }
for tool in hyperfine podman runc buildah skopeo busybox python3 docker-registry curl; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing (scripts/test installs it)" >&2; exit 1; }
done
. scripts/lib/jdk.sh
berth_find_jdk

work=${BENCH_WORK:-/var/tmp/berth-bench-run}
export BERTH_HOME=$work/home
mkdir -p "$work"
small=localhost/berth-bench-small:1
big=localhost/berth-bench-big:1
# nofile and nproc as peers.md sets them: podman's defaults are above this kind of machine's hard limits
podman_run=(podman run --rm --runtime runc --cgroup-manager cgroupfs --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

./berth version >/dev/null   # builds the jar and the launcher's AOT cache when needed

# ---------------------------------------------------------------- images
build_image() { # name, directory with a Dockerfile
  if ! podman image exists "$1"; then
    buildah bud --quiet --isolation chroot --layers=false -t "$1" "$2" >/dev/null
  fi
  if ! ./berth inspect "$1" >/dev/null 2>&1; then
    skopeo copy -q "containers-storage:$1" "oci:$BERTH_HOME/store:$1"
  fi
}
if ! podman image exists "$small" || ! podman image exists "$big"; then
  echo "building the bench images (once)" >&2
  ctx=$(mktemp -d)
  mkdir -p "$ctx/small/bin"
  cp /usr/bin/busybox "$ctx/small/bin/busybox"
  for a in sh true ls cat echo; do ln -s busybox "$ctx/small/bin/$a"; done
  printf 'FROM scratch\nCOPY bin /bin\nCMD ["sh"]\n' >"$ctx/small/Dockerfile"
  cp -a "$ctx/small" "$ctx/big"
  python3 bench/lib/make-tree.py "$ctx/big/data" >/dev/null
  printf 'FROM scratch\nCOPY bin /bin\nCOPY data /data\nCMD ["sh"]\n' >"$ctx/big/Dockerfile"
  build_image "$small" "$ctx/small"
  build_image "$big" "$ctx/big"
  rm -rf "$ctx"
fi
build_image "$small" /nonexistent   # both exist in podman's store now; make sure berth's has them too
build_image "$big" /nonexistent
echo "images: $small $(podman image inspect -f '{{.Size}}' "$small" | numfmt --to=iec), " \
     "$big $(podman image inspect -f '{{.Size}}' "$big" | numfmt --to=iec)"

bundle=$work/bundle
if [ ! -f "$bundle/config.json" ]; then
  rm -rf "$bundle"
  ./berth bundle "$small" "$bundle" true >/dev/null
fi
# An AOT cache trained on this one `berth run` and the JIT limited to C1, to show what the JVM could do
# (the launcher's run cache is trained on several runs and keeps C2, which the SHA-256 of a first run's
# extraction needs); measured as "berth, run-trained AOT + C1".
tuned_aot=$work/run.aot
jvm=("$JAVA_HOME/bin/java" -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED)
if [ ! -f "$tuned_aot" ] || [ cli/target/berth.jar -nt "$tuned_aot" ]; then
  "${jvm[@]}" -XX:AOTCacheOutput="$tuned_aot" -Xlog:disable -jar cli/target/berth.jar run --rm "$small" true \
    >/dev/null 2>&1 || true
fi
tuned=("${jvm[@]}" -XX:AOTCache="$tuned_aot" -XX:TieredStopAtLevel=1 -Xlog:disable -jar cli/target/berth.jar)

# ---------------------------------------------------------------- start-up
# berth's snapshots exist after the first run: this measures a start, not an extraction.
./berth run --rm "$small" true && ./berth run --rm "$big" true
json=$work/start.json
hyperfine -N --warmup 3 --runs "$runs" --export-json "$json" \
  -n "berth run --rm (2 MB)" "./berth run --rm $small true" \
  -n "podman run --rm (2 MB)" "${podman_run[*]} $small true" \
  -n "runc run (bundle)" "runc run --bundle $bundle berth-bench" \
  -n "berth run --rm (200 MB)" "./berth run --rm $big true" \
  -n "berth, run-trained AOT + C1 (2 MB)" "${tuned[*]} run --rm $small true" \
  -n "java: berth version (JVM floor)" "./berth version" >/dev/null

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work on the machine shows in every figure)"
report() {
  python3 - "$json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
def m(name): return r[name]["median"] * 1000
print(f"{'command':40} {'median ms':>10} {'mean ms':>9} {'stddev':>8}")
for name, x in r.items():
    print(f"{name:40} {x['median']*1000:10.1f} {x['mean']*1000:9.1f} {x['stddev']*1000:8.1f}")
b, p, rc = m("berth run --rm (2 MB)"), m("podman run --rm (2 MB)"), m("runc run (bundle)")
big, tuned, floor = m("berth run --rm (200 MB)"), m("berth, run-trained AOT + C1 (2 MB)"), m("java: berth version (JVM floor)")
print()
print(f"berth / podman:            {b/p:.2f}x   (target <= 0.7x)")
print(f"berth / runc run:          {b/rc:.2f}x")
print(f"200 MB / 2 MB (berth):     {big/b:.2f}x   (target <= 1.1x)")
print(f"tuned JVM / podman:        {tuned/p:.2f}x   (an AOT cache trained on run, C1 only)")
print(f"berth beyond `berth version`: {b-floor:.0f} ms (the JVM and picocli floor is {floor:.0f} ms)")
EOF
}
report
# The same starts inside one JVM, alternating the images: what a start costs berth once the JVM runs.
echo
echo "in one JVM (java -cp berth.jar bench/lib/StartTimes.java), median of $runs starts each, alternating:"
"${jvm[@]}" -cp cli/target/berth.jar bench/lib/StartTimes.java "$BERTH_HOME" "$runs" "$small" "$big" 2>/dev/null \
  | awk '{t[NR]=$2; printf "  %-40s %8.1f ms\n", $1, $2} END {printf "  200 MB / 2 MB: %.2fx   (target <= 1.1x)\n", t[2]/t[1]}'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- detached: run -d, exec, stop
# The container lifecycle: `run -d` (the monitor keeps the container), `exec true` in it, `stop`, as
# podman's same three commands (conmon keeps its container), each cycle in one bash. The container is a
# shell waiting on its input (open and empty with -i) that a trap ends on SIGTERM, so `stop` takes no
# timeout; --rm, so the stop removes it. Target: berth <= 0.8x podman.
cat >"$work/cycle-berth.sh" <<EOF2
id=\$(./berth run -d -i --rm $small sh -c 'trap "exit 0" TERM; read x') && ./berth exec \$id true && ./berth stop \$id >/dev/null
EOF2
cat >"$work/cycle-podman.sh" <<EOF2
id=\$(${podman_run[*]} -d -i $small sh -c 'trap "exit 0" TERM; read x') && podman exec \$id true && podman stop \$id >/dev/null
EOF2
bash "$work/cycle-berth.sh" && bash "$work/cycle-podman.sh"
djson=$work/detached.json
hyperfine -N --warmup 2 --runs "$runs" --export-json "$djson" \
  -n "berth run -d + exec true + stop" "bash $work/cycle-berth.sh" \
  -n "podman run -d + exec true + stop" "bash $work/cycle-podman.sh" >/dev/null
python3 - "$djson" <<'EOF2'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print()
for name, x in r.items():
    print(f"{name:40} {x['median']*1000:10.1f} ms median  (stddev {x['stddev']*1000:.1f})")
b, p = r["berth run -d + exec true + stop"]["median"], r["podman run -d + exec true + stop"]["median"]
print(f"detached cycle, berth / podman: {b/p:.2f}x   (target <= 0.8x)")
EOF2

# ---------------------------------------------------------------- first run of a freshly pulled image
# A loopback registry holds the 200 MB image. Each try, podman pulls into a new, empty storage root (its
# main store has these layers from the build and would not download or extract them) and berth into a
# new, empty home; then `berth run` extracts the layers and runs (a plain `berth run` of an image the
# store lacks does both; they are timed apart to show where the time goes). Nothing is deleted until all
# tries are done: ext4 skips inodes freed in the last minute when it allocates new ones, so extracting
# right after deleting a previous try's thousands of files measures that search, for either tool.
reg=$work/registry
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$reg/data"
printf 'version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: %s}\n  delete: {enabled: true}\nhttp: {addr: 127.0.0.1:%s}\n' \
  "$reg/data" "$port" >"$reg/config.yml"
docker-registry serve "$reg/config.yml" >"$reg/log" 2>&1 &
regpid=$!
first=$work/first-run   # the storage roots and homes of the tries, removed at the end
rm -rf "$first"
mkdir -p "$first"
trap 'kill $regpid 2>/dev/null || true; for r in "$first"/podman-*; do podman --root "$r/root" --runroot "$r/run" rmi -af >/dev/null 2>&1 || true; done; rm -rf "$first"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
remote=127.0.0.1:$port/berth-bench-big:1
skopeo copy -q --dest-tls-verify=false "containers-storage:$big" "docker://$remote"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "bench/run.sh: failed: $*" >&2; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
first_runs=${FIRST_RUNS:-3}
: >"$work/podman.times"; : >"$work/pull.times"; : >"$work/berth-extract.times"
for i in $(seq "$first_runs"); do
  proot=(--root "$first/podman-$i/root" --runroot "$first/podman-$i/run")
  sync
  seconds bash -c "podman ${proot[*]} pull -q --tls-verify=false $remote && podman ${proot[*]} ${podman_run[*]:1} $remote true" \
    >>"$work/podman.times"
  fresh=$first/berth-$i   # a berth home without the image's blobs, so the pull really downloads them
  mkdir -p "$fresh"
  sync
  seconds env BERTH_HOME="$fresh" ./berth pull -q "$remote" >>"$work/pull.times"
  seconds env BERTH_HOME="$fresh" ./berth run --rm "$remote" true >>"$work/berth-extract.times"
done
p=$(median <"$work/podman.times"); c=$(median <"$work/pull.times"); e=$(median <"$work/berth-extract.times")
b=$(echo "$c + $e" | bc)
echo
echo "first run of the freshly pulled 200 MB image (median of $first_runs):"
printf '  %-56s %6.2f s\n' "podman pull + podman run" "$p"
printf '  %-56s %6.2f s\n' "berth pull (into an empty home)" "$c"
printf '  %-56s %6.2f s\n' "berth run (extract 200 MB into snapshots + start)" "$e"
echo "  berth / podman: $(echo "scale=2; $b / $p" | bc)x   (target <= 0.5x)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- rootless
# The same, as a user who is not root (berth-bench, made here with sub-ids 400000..465535): rootless
# berth (a user namespace of each container's own, mapped with the user's sub-ids by newuidmap) beside
# rootless podman (its pause process's user namespace, native overlay, runc, no cgroup), the same user
# for both; then the first run of the 200 MB image pulled from the loopback registry, into fresh stores.
# Targets: rootless berth run <= 1.0x rootless podman run; first run (pull + extract + start) <= 0.5x.
# ROOTLESS=0 skips this part.
if [ "${ROOTLESS:-1}" = 1 ]; then
  buser=berth-bench
  id -u "$buser" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$buser"
  for f in /etc/subuid /etc/subgid; do grep -q "^$buser:" "$f" || echo "$buser:400000:65536" >>"$f"; done
  buid=$(id -u "$buser"); bgid=$(id -g "$buser"); bhome=$(getent passwd "$buser" | cut -d: -f6)
  rl=$work/rootless
  mkdir -p "$rl"; chmod 755 "$work"; chown "$buid:$bgid" "$rl"
  xdg=$rl/xdg; mkdir -p "$xdg"; chown "$buid:$bgid" "$xdg"; chmod 700 "$xdg"
  as_user() {
    setpriv --reuid="$buid" --regid="$bgid" --init-groups -- env -i HOME="$bhome" USER="$buser" LOGNAME="$buser" \
      PATH="$PATH" XDG_RUNTIME_DIR="$xdg" BERTH_HOME="$rl/home" "$@"
  }
  # The images, from podman's (root's) store, as an OCI layout every user can read.
  if [ ! -f "$rl/oci/index.json" ]; then
    skopeo copy -q "containers-storage:$small" "oci:$rl/oci:small"
    skopeo copy -q "containers-storage:$big" "oci:$rl/oci:big"
    chmod -R a+rX "$rl/oci"
  fi
  as_user podman image exists "$small" || as_user skopeo copy -q "oci:$rl/oci:small" "containers-storage:$small"
  as_user podman image exists "$big" || as_user skopeo copy -q "oci:$rl/oci:big" "containers-storage:$big"
  as_user "$root/berth" inspect "$small" >/dev/null 2>&1 || as_user skopeo copy -q "oci:$rl/oci:small" "oci:$rl/home/store:$small"
  as_user "$root/berth" inspect "$big" >/dev/null 2>&1 || as_user skopeo copy -q "oci:$rl/oci:big" "oci:$rl/home/store:$big"
  ./berth run --rm "$small" true   # the launcher's run cache, fresh for this jar (the user cannot write it)
  rpodman=(podman run --rm --runtime runc --cgroup-manager cgroupfs --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
  as_user "$root/berth" run --rm "$small" true && as_user "${rpodman[@]}" "$small" true   # snapshots, pause process
  rjson=$rl/start.json
  as_user hyperfine -N --warmup 3 --runs "$runs" --export-json "$rjson" \
    -n "rootless berth run --rm (2 MB)" "$root/berth run --rm $small true" \
    -n "rootless podman run --rm (2 MB)" "${rpodman[*]} $small true" \
    -n "rootless berth version (JVM floor)" "$root/berth version" >/dev/null
  echo
  echo "rootless, as $buser (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
  python3 - "$rjson" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for name, x in r.items():
    print(f"  {name:40} {x['median']*1000:8.1f} ms median")
b, p = r["rootless berth run --rm (2 MB)"]["median"], r["rootless podman run --rm (2 MB)"]["median"]
print(f"  rootless berth / rootless podman: {b/p:.2f}x   (target <= 1.0x)")
PY
  : >"$rl/podman.times"; : >"$rl/berth.times"
  for i in $(seq "$first_runs"); do
    prun=/tmp/berth-bench-podman-$i   # podman refuses a runroot longer than 50 characters
    rm -rf "$prun"; mkdir -p "$rl/first/podman-$i" "$rl/first/berth-$i" "$prun"
    chown -R "$buid:$bgid" "$rl/first" "$prun"
    proot=(--root "$rl/first/podman-$i/root" --runroot "$prun")
    sync
    seconds as_user bash -c "podman ${proot[*]} pull -q --tls-verify=false $remote && podman ${proot[*]} ${rpodman[*]:1} $remote true" \
      >>"$rl/podman.times"
    sync
    seconds as_user env BERTH_HOME="$rl/first/berth-$i" bash -c "$root/berth pull -q $remote && $root/berth run --rm $remote true" \
      >>"$rl/berth.times"
  done
  rp=$(median <"$rl/podman.times"); rb=$(median <"$rl/berth.times")
  echo "  first run of the pulled 200 MB image (median of $first_runs): rootless podman pull + run $rp s, rootless berth pull + run $rb s"
  echo "  rootless berth / rootless podman: $(echo "scale=2; $rb / $rp" | bc)x   (target <= 0.5x)"
  rm -rf "$rl/first" /tmp/berth-bench-podman-*
fi

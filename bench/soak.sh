#!/usr/bin/env bash
# Reliability soak: berth killed with SIGKILL at random moments, then four berths at once on one store.
#
#   bench/soak.sh [TRIALS] [ROUNDS]     (default 100 kill trials, 10 concurrency rounds; SOAK_SEED=N)
#
# Kill trials: each starts one of build, pull, load, push, tag, rmi, prune, run on a store that has work
# for it (the image removed before a pull or a load, a fresh repository for a push, a build with a RUN
# and the cache bypassed), kills the berth JVM with SIGKILL after a random part of that operation's
# measured time, and then checks, with every failure counted and named:
#   - the next commands work: images, verify (every blob of every image re-hashed), run --rm true;
#   - no temporary file outlives them (tmp/ of the home is empty but for a partial download, which the
#     next pull of that blob resumes), no lock is held (/proc/locks);
#   - the operation, repeated, completes; a repeated pull or load writes no blob again that the killed
#     one had finished (same inode and modification time).
# Concurrency: ROUNDS rounds of 4 processes on one store (builds, tags, pulls, prunes, 6 each); after
# every round each tag a process reported as written is in the store and verify passes (prune never took
# a blob that an image being written needed).
# Prints the counts per operation; the target is 0 failures. Needs docker-registry, busybox (static),
# python3, curl, and a JDK 25 (found as ./berth finds it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
trials=${1:-100}
rounds=${2:-10}
RANDOM=${SOAK_SEED:-1}
work=${BENCH_DIR:-/tmp/berth-bench-soak}
for tool in docker-registry busybox python3 curl; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is not installed" >&2; exit 1; }
done
berth="$root/berth"
rm -rf "$work"; mkdir -p "$work"
export BERTH_CONFIG_DIR=$work/config
home=$work/home
export BERTH_HOME=$home

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: soak}
EOF
docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done
reg=127.0.0.1:$port

# ---------------------------------------------------------------- fixtures
echo "soak: making the fixtures" >&2
"$berth" version >/dev/null   # builds berth.jar if the sources changed (and trains its start)
mkdir -p "$work/bb/bin" "$work/bb/etc" "$work/bb/tmp"
cp "$(command -v busybox)" "$work/bb/bin/busybox"
for a in sh true cat dd sleep ls mkdir rm echo head sha256sum; do ln -sf busybox "$work/bb/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/bb/etc/passwd"
tar -C "$work/bb" -cf "$work/bb.tar" .
"$berth" import "$work/bb.tar" bb:1 >/dev/null
ctx=$work/ctx; mkdir -p "$ctx/data"
python3 - "$ctx/data" <<'EOF'
import os, random, sys
r = random.Random(7)
for i in range(40):
    with open(os.path.join(sys.argv[1], "f%02d" % i), "wb") as f:
        f.write(r.randbytes(r.randint(100_000, 1_500_000)))
EOF
cat > "$ctx/Dockerfile" <<'EOF'
FROM bb:1
COPY data /data
ARG N=0
RUN dd if=/dev/urandom of=/made bs=1M count=8 2>/dev/null && echo "$N" > /n
EOF
"$berth" build -q -t big:1 "$ctx" >/dev/null
"$berth" push -q big:1 "$reg/big:1" >/dev/null
"$berth" save -o "$work/big.tar" big:1

# ---------------------------------------------------------------- checks
# blobs PATH: "inode mtime name" of every blob, sorted
blobs() { find "$home/store/blobs" -type f -printf '%i %T@ %f\n' 2>/dev/null | sort -k3; }
# locks held on files under the home (a killed berth's would show in /proc/locks until its last fd closes)
held_locks() {
  python3 - "$home" <<'EOF'
import os, sys
home = sys.argv[1]
inodes = set()
for base, dirs, files in os.walk(home):
    for n in files:
        try:
            st = os.lstat(os.path.join(base, n))
            inodes.add((os.major(st.st_dev), os.minor(st.st_dev), st.st_ino))
        except OSError:
            pass
n = 0
with open("/proc/locks") as f:
    for line in f:
        parts = line.split()
        pid = parts[4] if parts[1] != "->" else parts[5]
        dev = parts[5] if parts[1] != "->" else parts[6]
        ma, mi, ino = dev.split(":")
        if (int(ma, 16), int(mi, 16), int(ino)) in inodes:
            n += 1
print(n)
EOF
}

declare -A tried killed failed
failures=()
fail() { # OP TRIAL WHAT
  failed[$1]=$(( ${failed[$1]:-0} + 1 ))
  failures+=("trial $2 ($1): $3")
  echo "soak: FAILED trial $2 ($1): $3" >&2
}

# The arguments of an operation for trial N, in args; prepare() first gives it work to do.
ops=(build pull load push tag rmi prune run)
op_args() {
  case $1 in
    build) args=(build -q --no-cache --build-arg "N=$2" -t "soak-build:$2" "$ctx") ;;
    pull) args=(pull -q "$reg/big:1") ;;
    load) args=(load -q -i "$work/big.tar") ;;
    push) args=(push -q big:1 "$reg/pushed-$2:1") ;;
    tag) args=(tag big:1 "soak-tag:$2") ;;
    rmi) args=(rmi "soak-tag:$2") ;;
    prune) args=(prune) ;;
    run) args=(run --rm bb:1 sh -c 'dd if=/dev/zero of=/tmp/x bs=1M count=30 2>/dev/null; sha256sum /tmp/x >/dev/null') ;;
  esac
}
prepare() {
  case $1 in
    pull) "$berth" rmi "$reg/big:1" >/dev/null 2>&1 || true; "$berth" prune >/dev/null ;;
    load) "$berth" rmi big:1 >/dev/null 2>&1 || true; "$berth" rmi "$reg/big:1" >/dev/null 2>&1 || true
          "$berth" prune >/dev/null ;;
    push|tag) "$berth" images -q big:1 >/dev/null 2>&1 || "$berth" load -q -i "$work/big.tar" >/dev/null ;;
    rmi) "$berth" tag bb:1 "soak-tag:$2" >/dev/null ;;
    prune) "$berth" rmi "soak-build:$(( $2 - 1 ))" >/dev/null 2>&1 || true ;;
  esac
}
# How long each operation takes here, to kill it at a random point of its work.
declare -A took
echo "soak: timing each operation once" >&2
for op in "${ops[@]}"; do   # twice: the first of a group trains the JVM's start cache
  for k in 0 1; do
    prepare "$op" "$k"
    op_args "$op" "$k"
    s=$(date +%s%N)
    "$berth" "${args[@]}" >/dev/null
    took[$op]=$(( ($(date +%s%N) - s) / 1000000 ))
  done
done
echo "soak: milliseconds: $(for op in "${ops[@]}"; do printf '%s=%s ' "$op" "${took[$op]}"; done)" >&2

# ---------------------------------------------------------------- kill trials
for t in $(seq "$trials"); do
  op=${ops[$(( RANDOM % ${#ops[@]} ))]}
  n=$(( 1000 + t ))
  prepare "$op" "$n"
  tried[$op]=$(( ${tried[$op]:-0} + 1 ))
  delay=$(( RANDOM % (took[$op] * 12 / 10 + 1) ))
  op_args "$op" "$n"
  "$berth" "${args[@]}" >/dev/null 2>&1 &   # the launcher execs the JVM: $! is berth itself
  victim=$!
  sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
  if kill -KILL "$victim" 2>/dev/null; then killed[$op]=$(( ${killed[$op]:-0} + 1 )); fi
  wait "$victim" 2>/dev/null || true
  # the next commands work, and leave no temp file or lock of the killed one
  "$berth" images >/dev/null 2>"$work/err" || fail "$op" "$t" "images: $(head -1 "$work/err")"
  "$berth" verify >/dev/null 2>"$work/err" || fail "$op" "$t" "verify: $(head -1 "$work/err")"
  "$berth" run --rm bb:1 true 2>"$work/err" || fail "$op" "$t" "run --rm bb:1 true: $(head -1 "$work/err")"
  # a partial download (blob-pull-*) is kept on purpose: the next pull of that blob resumes it
  left=$(find "$home/tmp" -mindepth 1 -maxdepth 1 ! -name 'blob-pull-*' 2>/dev/null | head -3 | tr '\n' ' ')
  [ -z "$left" ] || fail "$op" "$t" "left in tmp/: $left"
  locks=$(held_locks)
  [ "$locks" = 0 ] || fail "$op" "$t" "$locks locks held on files of the home"
  # the operation again, to the end; finished blobs are not written again
  mid=$(blobs)
  if ! "$berth" "${args[@]}" >/dev/null 2>"$work/err"; then
    case $op in
      rmi) "$berth" images -q "soak-tag:$n" >/dev/null 2>&1 && fail "$op" "$t" "rmi again: $(head -1 "$work/err")" ;;
      *) fail "$op" "$t" "again: $(head -1 "$work/err")" ;;
    esac
  fi
  if [ "$op" = pull ] || [ "$op" = load ]; then
    rewritten=$(join -1 3 -2 3 <(echo "$mid") <(blobs) | awk '$2 != $4 || $3 != $5 { print $1 }' | head -3 | tr '\n' ' ')
    [ -z "$rewritten" ] || fail "$op" "$t" "blobs written again: $rewritten"
  fi
done

# ---------------------------------------------------------------- concurrency
echo "soak: $rounds rounds of 4 berths at once" >&2
conc_fail=0
for r in $(seq "$rounds"); do
  out=$work/round-$r; mkdir -p "$out"
  workers=()
  ( for k in 1 2 3 4 5 6; do
      "$berth" build -q --build-arg N="$r$k" -t "c-build:$r-$k" "$ctx" >/dev/null 2>>"$out/errors" \
        && echo "c-build:$r-$k" >> "$out/written"
    done ) &
  workers+=($!)
  ( for k in 1 2 3 4 5 6; do
      "$berth" tag bb:1 "c-tag:$r-$k" 2>>"$out/errors" && echo "c-tag:$r-$k" >> "$out/written"
    done ) &
  workers+=($!)
  ( for k in 1 2 3 4 5 6; do
      "$berth" rmi "$reg/big:1" >/dev/null 2>&1 || true
      "$berth" pull -q "$reg/big:1" >/dev/null 2>>"$out/errors" && echo "$reg/big:1" >> "$out/pulled"
    done ) &
  workers+=($!)
  ( for k in 1 2 3 4 5 6; do "$berth" prune >/dev/null 2>>"$out/errors" || echo "prune failed" >> "$out/errors"; done ) &
  workers+=($!)
  wait "${workers[@]}"   # not the registry
  listed=$("$berth" images --format '{{.Repository}}:{{.Tag}}')
  while read -r tag; do
    [ -n "$tag" ] || continue
    grep -qxF "$tag" <<<"$listed" || { conc_fail=$((conc_fail + 1)); failures+=("round $r: $tag reported written, not in the store"); }
  done < <(cat "$out/written" 2>/dev/null)
  # the pull loop removes its tag before each pull: the last pull's must be there
  if [ -s "$out/pulled" ] && ! grep -qxF "$reg/big:1" <<<"$listed"; then
    conc_fail=$((conc_fail + 1)); failures+=("round $r: the last pull's $reg/big:1 is not in the store")
  fi
  "$berth" verify >/dev/null 2>"$work/err" || { conc_fail=$((conc_fail + 1)); failures+=("round $r: verify: $(head -1 "$work/err")"); }
  if [ -s "$out/errors" ]; then
    conc_fail=$((conc_fail + 1)); failures+=("round $r: a command failed: $(head -1 "$out/errors")")
  fi
done

# ---------------------------------------------------------------- report
printf '\n%-8s %7s %7s %9s\n' operation trials killed failures
total=0
for op in "${ops[@]}"; do
  printf '%-8s %7d %7d %9d\n' "$op" "${tried[$op]:-0}" "${killed[$op]:-0}" "${failed[$op]:-0}"
  total=$(( total + ${failed[$op]:-0} ))
done
printf '%-8s %7d %7s %9d\n' all "$trials" "" "$total"
printf 'concurrency: %d rounds of 4 processes (6 builds, 6 tags, 6 pulls, 6 prunes each), %d failures\n' "$rounds" "$conc_fail"
printf '(killed: the SIGKILL reached berth before it ended by itself)\n'
for f in "${failures[@]}"; do echo "  $f"; done
[ "$total" = 0 ] && [ "$conc_fail" = 0 ]

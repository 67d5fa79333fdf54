#!/usr/bin/env bash
# Registry benchmark: berth against skopeo, side by side in one run, on a local CNCF registry.
#
#   bench/registry.sh [RUNS]        (default 5 runs of each; medians are compared)
#
# Makes an image of about 200 MB unpacked / 90 MB gzip in 4 layers from files of this machine's /usr
# (the same files every time on the same machine), stores it in a local registry, then measures:
#   pull     berth pull into an empty store   vs  skopeo copy docker://... oci:DIR   (fresh each run)
#   push     berth push to an empty registry   vs  skopeo copy oci:STORE docker://... (fresh registry each run,
#            so neither tool can mount or skip anything)
#   re-push  berth push of the same image again (nothing to send; target < 0.5 s), skopeo's for reference
# and prints the medians and the ratios berth/skopeo (targets: pull <= 1.0, push <= 1.0).
# Needs docker-registry, skopeo, pigz, python3 and a JDK 25 (found as ./berth finds it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
work=${BENCH_DIR:-/tmp/berth-bench-registry}
mkdir -p "$work"
for tool in docker-registry skopeo pigz python3 sha256sum; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

# ---------------------------------------------------------------- the image
image=$work/image
if [ ! -f "$image/index.json" ]; then
  echo "bench: making the image (once; kept in $image)" >&2
  rm -rf "$image" "$work/layers"; mkdir -p "$image/blobs/sha256" "$work/layers"
  # files up to ~200 MiB, sorted, from directories that exist on a Debian machine with the test tools
  python3 - "$work/layers" <<'EOF'
import os, sys
out = sys.argv[1]
groups = [["usr/lib/gcc"], ["usr/libexec", "usr/lib/python3.11"], ["usr/bin"], ["usr/lib/x86_64-linux-gnu"]]
budget = [95 << 20, 50 << 20, 40 << 20, 25 << 20]
for i, (dirs, limit) in enumerate(zip(groups, budget)):
    files, total = [], 0
    for d in dirs:
        for base, subdirs, names in os.walk("/" + d):
            subdirs.sort()
            for n in sorted(names):
                p = os.path.join(base, n)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                s = os.path.getsize(p)
                if total + s > limit:
                    continue
                files.append(p[1:]); total += s
    with open(os.path.join(out, "files%d" % i), "w") as f:
        f.write("\n".join(files) + "\n")
EOF
  diff_ids=(); layers=()
  for i in 0 1 2 3; do
    tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner -C / -cf "$work/layers/$i.tar" -T "$work/layers/files$i"
    diff_ids+=("sha256:$(sha256sum < "$work/layers/$i.tar" | cut -d' ' -f1)")
    pigz -6 -n < "$work/layers/$i.tar" > "$work/layers/$i.tar.gz"
    d=$(sha256sum < "$work/layers/$i.tar.gz" | cut -d' ' -f1)
    mv "$work/layers/$i.tar.gz" "$image/blobs/sha256/$d"
    layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$d\",\"size\":$(stat -c %s "$image/blobs/sha256/$d")}")
    rm "$work/layers/$i.tar"
  done
  config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"${diff_ids[0]}\",\"${diff_ids[1]}\",\"${diff_ids[2]}\",\"${diff_ids[3]}\"]}}"
  cd_=$(printf %s "$config" | sha256sum | cut -d' ' -f1); printf %s "$config" > "$image/blobs/sha256/$cd_"
  manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cd_\",\"size\":${#config}},\"layers\":[$(IFS=,; echo "${layers[*]}")]}"
  md=$(printf %s "$manifest" | sha256sum | cut -d' ' -f1); printf %s "$manifest" > "$image/blobs/sha256/$md"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$image/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' \
    "$md" "${#manifest}" > "$image/index.json"
fi
unpacked=$(cat "$work"/layers/files* | sed 's|^|/|' | tr '\n' '\0' | du -cb --files0-from=- | tail -1 | cut -f1)
packed=$(du -cb "$image"/blobs/sha256/* | tail -1 | cut -f1)

# ---------------------------------------------------------------- registries
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_registry() { # DIR -> sets reg to host:port (not in $(...): the pid must reach the cleanup trap)
  local dir=$1 port; port=$(free_port); mkdir -p "$dir"
  cat > "$dir/config.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: bench}
EOF
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done
  reg=127.0.0.1:$port
}
rm -rf "$work/run"; mkdir -p "$work/run"
start_registry "$work/run/source"; src=$reg
skopeo copy -q --dest-tls-verify=false "oci:$image:bench" "docker://$src/bench:1"

# ---------------------------------------------------------------- berth
export BERTH_CONFIG_DIR=$work/run/config     # no user configuration
"$root/berth" version >/dev/null              # builds berth.jar if the sources changed

# measure ARRAY_PREFIX COMMAND...: appends wall seconds to ${prefix}_w and CPU seconds (user+sys) to ${prefix}_c
measure() {
  local prefix=$1; shift
  local t
  t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>"$work/run/last.err"; } 2>&1 ) \
    || { cat "$work/run/last.err" >&2; echo "bench: $* failed" >&2; exit 1; }
  eval "${prefix}_w+=(\"$(echo "$t" | awk '{print $1}')\")"
  eval "${prefix}_c+=(\"$(echo "$t" | awk '{printf "%.3f", $2 + $3}')\")"
}
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

pull_b_w=(); pull_b_c=(); pull_s_w=(); pull_s_c=(); push_b_w=(); push_b_c=(); push_s_w=(); push_s_c=()
repush_b_w=(); repush_b_c=(); repush_s_w=(); repush_s_c=()
load_before=$(cut -d' ' -f1 /proc/loadavg)
for i in $(seq "$runs"); do
  # pull
  home=$work/run/home-$i; rm -rf "$home"
  measure pull_b env BERTH_HOME="$home" "$root/berth" pull -q "$src/bench:1"
  rm -rf "$work/run/skopeo-$i"
  measure pull_s skopeo copy -q --src-tls-verify=false "docker://$src/bench:1" "oci:$work/run/skopeo-$i:bench"
  rm -rf "$work/run/skopeo-$i"

  # push to an empty registry, from berth's store, both tools; then the same again (nothing to send)
  start_registry "$work/run/dest-b-$i"; dst=$reg
  measure push_b env BERTH_HOME="$home" "$root/berth" push -q "$src/bench:1" "$dst/bench:1"
  measure repush_b env BERTH_HOME="$home" "$root/berth" push -q "$src/bench:1" "$dst/bench:1"
  start_registry "$work/run/dest-s-$i"; dst=$reg
  measure push_s skopeo copy -q --dest-tls-verify=false "oci:$home/store:$src/bench:1" "docker://$dst/bench:1"
  measure repush_s skopeo copy -q --dest-tls-verify=false "oci:$home/store:$src/bench:1" "docker://$dst/bench:1"
  rm -rf "$home" "$work/run/dest-b-$i/data" "$work/run/dest-s-$i/data"
  kill "${pids[-1]}" "${pids[-2]}" 2>/dev/null || true   # this run's two destination registries
  echo "bench: run $i: pull berth ${pull_b_w[-1]} s, skopeo ${pull_s_w[-1]} s; push berth ${push_b_w[-1]} s," \
       "skopeo ${push_s_w[-1]} s; re-push berth ${repush_b_w[-1]} s, skopeo ${repush_s_w[-1]} s" >&2
done
load_after=$(cut -d' ' -f1 /proc/loadavg)

m() { eval "echo \"\${$1[*]}\"" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "ok" : "MISSED" }'; }
pb=$(m pull_b_w); ps=$(m pull_s_w); ub=$(m push_b_w); us=$(m push_s_w); rb=$(m repush_b_w); rs=$(m repush_s_w)
printf '\nimage: %d MB unpacked, %d MB compressed, 4 layers; %d runs, medians; %d CPUs, load average %s before, %s after\n' \
  $((unpacked / 1000000)) $((packed / 1000000)) "$runs" "$(nproc)" "$load_before" "$load_after"
printf '%-8s %9s %9s %7s  %-14s %11s %11s\n' work "berth s" "skopeo s" ratio target "berth cpu s" "skopeo cpu s"
printf '%-8s %9s %9s %7s  %-14s %11s %11s\n' pull "$pb" "$ps" "$(ratio "$pb" "$ps")" \
  "<= 1.0 $(verdict "$(ratio "$pb" "$ps")" 1.0)" "$(m pull_b_c)" "$(m pull_s_c)"
printf '%-8s %9s %9s %7s  %-14s %11s %11s\n' push "$ub" "$us" "$(ratio "$ub" "$us")" \
  "<= 1.0 $(verdict "$(ratio "$ub" "$us")" 1.0)" "$(m push_b_c)" "$(m push_s_c)"
printf '%-8s %9s %9s %7s  %-14s %11s %11s\n' re-push "$rb" "$rs" "$(ratio "$rb" "$rs")" \
  "< 0.5 s $(verdict "$rb" 0.499)" "$(m repush_b_c)" "$(m repush_s_c)"

#!/usr/bin/env bash
# berth analyze on a large image: 100,000 files, about 1 GB, in two layers (the second overwrites a tenth
# of the first's files and deletes another tenth with whiteouts written by a RUN-less trick: a COPY of
# replacements, then a layer of deletions made by berth commit of a container that removes them).
# Prints the median wall time and the peak RSS of `berth analyze` (target: RSS <= 300 MB), with the wasted
# bytes it reports beside the bytes the generator overwrote and deleted (they must be equal).
# dive, the peer for these figures, is not packaged for Debian: its definition is checked in the unit tests.
# Usage: bench/analyze.sh [RUNS]   (default 3). Needs python3, GNU time, busybox-static (for the RUN layer).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
work=${BENCH_WORK:-/var/tmp/berth-bench-analyze}
export BERTH_HOME=$work/home
mkdir -p "$work"
"$root/berth" version >/dev/null   # builds the jar once, outside the timings

if ! "$root/berth" images -q bench-analyze:1 2>/dev/null | grep -q .; then
  rm -rf "$work/ctx" && mkdir -p "$work/ctx/tree" "$work/ctx/over"
  python3 - "$work/ctx" <<'PY'
import os, sys
ctx = sys.argv[1]
over = deleted = 0
for i in range(100_000):
    d = os.path.join(ctx, "tree", "d%03d" % (i % 1000))
    os.makedirs(d, exist_ok=True)
    size = (i * 7919) % 20_000                       # 0..20 kB, about 1 GB in all
    line = (b"file %d " % i) * 8 + b"\n"
    data = (line * (size // len(line) + 1))[:size]
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(data)
    if i % 10 == 1:                                  # overwritten by the second layer
        od = os.path.join(ctx, "over", "d%03d" % (i % 1000))
        os.makedirs(od, exist_ok=True)
        with open(os.path.join(od, "f%06d" % i), "wb") as f:
            f.write(b"new\n")
        over += size
    if i % 10 == 2:
        deleted += size
open(os.path.join(ctx, "expected"), "w").write("%d\n" % (over + deleted))
with open(os.path.join(ctx, "delete.sh"), "w") as f:
    f.write("#!/bin/busybox sh\n")
    for i in range(2, 100_000, 10):
        f.write("/bin/busybox rm /d%03d/f%06d\n" % (i % 1000, i))
PY
  mkdir -p "$work/ctx/bin" && cp "$(command -v busybox)" "$work/ctx/bin/busybox"
  chmod +x "$work/ctx/delete.sh"
  printf 'FROM scratch\nCOPY bin /bin\nCOPY tree /\nCOPY over /\nCOPY delete.sh /delete.sh\nRUN ["/bin/busybox", "sh", "/delete.sh"]\n' \
    > "$work/ctx/Dockerfile"
  "$root/berth" build -q -t bench-analyze:1 "$work/ctx" >/dev/null
fi

times=() rss=()
for i in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/time" "$root/berth" analyze --format json bench-analyze:1 >"$work/report.json"
  read -r t m <"$work/time"
  times+=("$t"); rss+=("$m")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
python3 - "$work/report.json" "$work/ctx/expected" "$(median "${times[@]}")" "$(median "${rss[@]}")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
expected = int(open(sys.argv[2]).read())
files = sum(l["added"] for l in r["layers"])
print(f"image: {r['uncompressed']/1e9:.2f} GB as tars, {len(r['layers'])} layers, {files} entries added")
print(f"berth analyze: {float(sys.argv[3]):.2f} s median, peak RSS {int(sys.argv[4])/1024:.0f} MB (target <= 300 MB)")
print(f"wasted: {r['wasted']} bytes reported, {expected} overwritten or deleted by the generator"
      f" -> {'equal' if r['wasted'] == expected else 'DIFFERENT'}")
PY

#!/usr/bin/env bash
# Coverage-guided fuzzing (Jazzer) of the parsers and the tar side, one target after the other.
#
#   bench/fuzz.sh [SECONDS] [TARGET...]     (default 600 seconds each, every target)
#
# A target is a @FuzzTest of the module that owns the code (table below); the suite replays its corpus,
# testdata/fuzz/TARGET/, on every build. Here the fuzzer mutates that corpus for SECONDS, in a test JVM
# with a 512 MB heap and a 10 s limit per input. Inputs that reach new code are kept in
# MODULE/target/fuzz/TARGET/ and seed the next run; an input that breaks the target's contract (an
# exception other than the module's own, a timeout, running out of the heap) is written to
# testdata/fuzz/TARGET/ as crash-SHA1 (timeout-, oom-), where the suite will replay it: fix the code,
# and commit the input with the fix. Prints per target: executions, corpus size, findings (target: 0).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/jdk.sh
berth_find_jdk
berth_quiet_maven
seconds=${1:-600}
shift || true
case $seconds in ''|*[!0-9]*) echo "bench/fuzz.sh: SECONDS must be a number, not $seconds" >&2; exit 2;; esac

# target -> module and test class
declare -A module=(
  [reference]=layers [digest]=layers [platform]=layers [manifest]=layers [index]=layers [config]=layers
  [layerCheck]=layers [extract]=layers [archive]=layers
  [dockerfile]=builder [shellLexer]=builder [dockerignore]=builder
  [wwwAuthenticate]=registry [link]=registry [headers]=registry [errorBody]=registry
)
declare -A class=([layers]=dev.berth.layers.LayersFuzzTest [builder]=dev.berth.builder.BuilderFuzzTest
  [registry]=dev.berth.registry.internal.RegistryFuzzTest)
order=(reference digest platform manifest index config layerCheck extract archive
  dockerfile shellLexer dockerignore wwwAuthenticate link headers errorBody)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${order[@]}")
for t in "${targets[@]}"; do
  [ -n "${module[$t]:-}" ] || { echo "bench/fuzz.sh: unknown target $t (known: ${order[*]})" >&2; exit 2; }
done

root=$(pwd)
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
modules=$(for t in "${targets[@]}"; do echo "${module[$t]}"; done | sort -u | paste -sd,)
./mvnw -B -ntp -q -pl "$modules" -am test-compile >"$log/compile" 2>&1 || { cat "$log/compile" >&2; exit 1; }

findings() { # corpus dir -> the names of the findings in it
  find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) \
    -printf '%f\n' | sort
}

printf '%-16s %12s %8s %9s\n' target executions corpus findings
total=0
for t in "${targets[@]}"; do
  m=${module[$t]}
  seeds=$root/testdata/fuzz/$t
  corpus=$root/$m/target/fuzz/$t
  mkdir -p "$seeds" "$corpus"
  findings "$seeds" >"$log/before"
  # libFuzzer's options after Jazzer's own: the first directory is where the corpus grows; the last
  # -max_total_time wins over the test's maxDuration; findings are written beside the seeds. A finding
  # does not stop the run (keep_going), so one run reports all the distinct ones it meets.
  JAZZER_FUZZ=1 nice ./mvnw -B -ntp -q -o -pl "$m" -am test -Dtest="${class[$m]}#$t" \
    -Dsurefire.failIfNoSpecifiedTests=false -Dberth.test.jvm="-Xmx512m -XX:+UseSerialGC" \
    -Djazzer.keep_going=100 \
    -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1="$corpus" -Djazzer.internal.arg.2=-max_total_time="$seconds" \
    -Djazzer.internal.arg.3=-timeout=10 -Djazzer.internal.arg.4=-artifact_prefix="$seeds/" \
    -Djazzer.internal.arg.5=-print_final_stats=1 >"$log/$t" 2>&1 || true
  runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log/$t" | tail -1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log/$t" | tail -1)
  new=$(findings "$seeds" | comm -13 "$log/before" -)
  count=$(printf '%s' "$new" | grep -c . || true)
  if [ -z "$runs" ] && [ "$count" -eq 0 ]; then
    echo "bench/fuzz.sh: $t did not run; its output:" >&2
    grep -v '^INFO: \|^WARNING: ' "$log/$t" | tail -30 >&2
    exit 1
  fi
  printf '%-16s %12s %8s %9s\n' "$t" "${runs:-?}" "$(find "$corpus" -type f | wc -l)" "$count"
  # each finding with what broke: the exception (or libFuzzer's timeout) and berth's innermost frame
  awk -v dir="testdata/fuzz/$t/" '
    /^== Java Exception: / { what = substr($0, 20); frame = ""; next }
    /ERROR: libFuzzer: / { what = substr($0, index($0, "libFuzzer: ") + 11); frame = ""; next }
    /^[ \t]*at dev\.berth\./ && frame == "" && $0 !~ /FuzzTest|testing\.Fuzzing/ { frame = $2; next }
    /Test unit written to / { n = split($NF, p, "/"); print "  " dir p[n] ": " what (frame == "" ? "" : " at " frame) }
  ' "$log/$t" | cut -c1-200
  total=$((total + count))
done
[ "$total" -eq 0 ]

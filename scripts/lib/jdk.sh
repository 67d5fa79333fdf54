# Sourced by berth's scripts: sets JAVA_HOME to a JDK 25 or newer, or stops with what to install.
# Order: $JAVA_HOME if it is one, else `java` on PATH if it is one, else the newest under /usr/lib/jvm.

# Every berth command runs through this, so it forks nothing where a shell builtin does (an exec costs
# a millisecond or two, and looking up a JDK took about 15 ms when it ran sed and dirname).
berth_jdk_major() { # JDK home -> its feature version in berth_jdk_v, or nothing
  local home=$1 line
  berth_jdk_v=
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -r "$home/release" ]; then
    while IFS= read -r line; do
      case $line in
        JAVA_VERSION=\"[0-9]*) line=${line#JAVA_VERSION=\"}; berth_jdk_v=${line%%[!0-9]*}; break ;;
      esac
    done <"$home/release"
  else
    berth_jdk_v=$("$home/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  fi
  [ "$berth_jdk_v" = 1 ] && berth_jdk_v=8
  return 0
}

berth_find_jdk() {
  local want=25 cand best= bestv=0
  if [ -n "${JAVA_HOME:-}" ]; then
    berth_jdk_major "$JAVA_HOME"
    if [ -n "$berth_jdk_v" ] && [ "$berth_jdk_v" -ge "$want" ]; then return 0; fi
  fi
  if cand=$(command -v java 2>/dev/null); then
    cand=$(readlink -f "$cand")
    cand=${cand%/*}; cand=${cand%/*}
    berth_jdk_major "$cand"
    if [ -n "$berth_jdk_v" ] && [ "$berth_jdk_v" -ge "$want" ]; then JAVA_HOME=$cand; export JAVA_HOME; return 0; fi
  fi
  for cand in /usr/lib/jvm/*; do
    [ -d "$cand" ] && [ ! -L "$cand" ] || continue
    berth_jdk_major "$cand"
    if [ -n "$berth_jdk_v" ] && [ "$berth_jdk_v" -ge "$want" ] && [ "$berth_jdk_v" -gt "$bestv" ]; then
      best=$cand; bestv=$berth_jdk_v
    fi
  done
  if [ -n "$best" ]; then JAVA_HOME=$best; export JAVA_HOME; return 0; fi
  echo "berth: no JDK $want or newer found (checked JAVA_HOME, java on PATH, /usr/lib/jvm);" \
       "install one, e.g. Temurin 25, and set JAVA_HOME to it" >&2
  return 1
}

# Maven's own libraries (Guice, Guava) use sun.misc.Unsafe, which JDK 24+ warns about on every run.
berth_quiet_maven() {
  case " ${MAVEN_OPTS:-} " in
    *sun-misc-unsafe-memory-access*) ;;
    *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;;
  esac
}

# The JVM options berth runs with (the launcher, the AOT training run and the benchmarks).
# Serial GC: berth's commands are short and stream their data, so a small heap and one GC thread do best.
# Both JIT tiers are asked for later than by default: on a short command their compilations cost more
# CPU than they save (the top tier's: a no-change rebuild takes 0.40 s instead of 0.50 s; the first
# tier's, ten times later: a layer of 7,000 files takes a tenth less CPU, mostly per-file code that
# stays interpreted a little longer instead of being compiled twice), while long ones (hashing and
# compressing layers) still get them early enough. The exception is SHA-256's block loop: only the top
# tier uses the CPU's SHA instructions, and until it compiles the loop the digest runs as plain Java, a
# tenth of the speed; it is compiled at once (a pull of 80 MB: 0.62 s -> 0.48 s). The interpreter keeps
# no profiles (the first tier's compiled code profiles what the top tier needs): a layer of 7,000 files
# takes about 1% less time, and short commands are not slower. No perf-data file: nothing needs to attach
# to berth.
berth_jvm_opts=(-XX:+UseSerialGC -XX:-UsePerfData -XX:-ProfileInterpreter
  -XX:Tier3InvocationThreshold=2000 -XX:Tier3MinInvocationThreshold=1000
  -XX:Tier3CompileThreshold=20000 -XX:Tier3BackEdgeThreshold=600000
  -XX:Tier4InvocationThreshold=20000 -XX:Tier4MinInvocationThreshold=6000
  -XX:Tier4CompileThreshold=30000 -XX:Tier4BackEdgeThreshold=200000
  -XX:CompileCommand=quiet
  -XX:CompileCommand=CompileThresholdScaling,sun.security.provider.DigestBase::implCompressMultiBlock0,0.001
  -XX:CompileCommand=CompileThresholdScaling,sun.security.provider.SHA2::implCompress0,0.001
  --enable-native-access=ALL-UNNAMED)

# The JVM takes the encoding of file names from the locale; in the POSIX locale (LANG unset, as under
# `env -i`, in cron, in many containers and CI jobs) it is ASCII, and a layer entry such as
# `Főtanúsítvány.crt` could not be named on disk. A UTF-8 locale for names, unless one is set already.
berth_utf8_locale() {
  case "${LC_ALL:-${LC_CTYPE:-${LANG:-}}}" in
    *[Uu][Tt][Ff]-8*|*[Uu][Tt][Ff]8*) ;;
    *) export LC_ALL=C.UTF-8 ;;
  esac
}

package dev.berth.layers.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Raw deflate of one block with the system's zlib ({@code libz.so.1}) through the Foreign Function &
 * Memory API. Why: the distribution's zlib compresses about 10% faster than the copy bundled in the JDK,
 * and gzip dominates the time of writing a layer. zlib's deflate produces the same bytes for the same
 * level, window and memory level across its releases; a test checks this one against the JDK's
 * {@link java.util.zip.Deflater}, which is used where no system zlib can be loaded.
 *
 * <p>Each thread keeps one native {@code z_stream} and its buffers; blocks are at most {@link #MAX_BLOCK}
 * bytes.
 */
final class SystemZlib {
    static final int MAX_BLOCK = ParallelGzipOutputStream.MAX_BLOCK;
    private static final int Z_SYNC_FLUSH = 2;
    private static final int Z_OK = 0;
    private static final int Z_BUF_ERROR = -5;
    /** {@code sizeof(z_stream)} and its field offsets on LP64 Linux. */
    private static final long STREAM_SIZE = 112;
    private static final long NEXT_IN = 0;
    private static final long AVAIL_IN = 8;
    private static final long NEXT_OUT = 24;
    private static final long AVAIL_OUT = 32;
    private static final long OUT_CAPACITY = ParallelGzipOutputStream.OUT_CAPACITY;

    private static final Optional<Functions> FUNCTIONS = load();
    private static final ThreadLocal<Stream[]> STREAMS = ThreadLocal.withInitial(() -> new Stream[10]);

    private SystemZlib() {}

    private record Functions(MethodHandle init, MethodHandle setDictionary, MethodHandle deflate,
                             MethodHandle reset, MemorySegment version) {}

    private static Optional<Functions> load() {
        if (!"amd64".equals(System.getProperty("os.arch")) && !"aarch64".equals(System.getProperty("os.arch"))) {
            return Optional.empty(); // the z_stream layout below is LP64's
        }
        try {
            SymbolLookup zlib = SymbolLookup.libraryLookup("libz.so.1", Arena.global());
            Linker linker = Linker.nativeLinker();
            MethodHandle versionOf = linker.downcallHandle(zlib.find("zlibVersion").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            MemorySegment version = ((MemorySegment) versionOf.invokeExact()).reinterpret(32);
            if (!version.getString(0).startsWith("1.")) {
                return Optional.empty();
            }
            return Optional.of(new Functions(
                    linker.downcallHandle(zlib.find("deflateInit2_").orElseThrow(), FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_INT)),
                    linker.downcallHandle(zlib.find("deflateSetDictionary").orElseThrow(), FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)),
                    linker.downcallHandle(zlib.find("deflate").orElseThrow(), FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)),
                    linker.downcallHandle(zlib.find("deflateReset").orElseThrow(), FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.ADDRESS)),
                    version));
        } catch (Throwable notThere) {
            return Optional.empty(); // no libz.so.1, or no native access: the JDK's Deflater serves
        }
    }

    static boolean available() {
        return FUNCTIONS.isPresent();
    }

    /** The loaded zlib's version ({@code 1.3.1}), if one is loaded. */
    static Optional<String> version() {
        return FUNCTIONS.map(f -> f.version().getString(0));
    }

    /**
     * Deflates one block, the first {@code length} bytes of {@code data}, as the raw stream's next part:
     * primed with {@code dictionary} (may be null), ended with a sync flush. The result goes to the start
     * of {@code out}, which holds {@link ParallelGzipOutputStream#OUT_CAPACITY} bytes; returns its length.
     */
    static int deflate(byte[] data, int length, byte[] dictionary, int level, byte[] out) {
        Functions f = FUNCTIONS.orElseThrow();
        if (length > MAX_BLOCK || (dictionary != null && dictionary.length > MAX_BLOCK)) {
            throw new IllegalArgumentException("block larger than " + MAX_BLOCK);
        }
        if (out.length < OUT_CAPACITY) {
            throw new IllegalArgumentException("room for " + out.length + " compressed bytes, not " + OUT_CAPACITY);
        }
        Stream s = stream(f, level);
        try {
            if (dictionary != null) {
                MemorySegment.copy(dictionary, 0, s.in, ValueLayout.JAVA_BYTE, 0, dictionary.length);
                check((int) f.setDictionary().invokeExact(s.strm, s.in, dictionary.length), "deflateSetDictionary");
            }
            MemorySegment.copy(data, 0, s.in, ValueLayout.JAVA_BYTE, 0, length);
            s.strm.set(ValueLayout.ADDRESS, NEXT_IN, s.in);
            s.strm.set(ValueLayout.JAVA_INT, AVAIL_IN, length);
            s.strm.set(ValueLayout.ADDRESS, NEXT_OUT, s.out);
            s.strm.set(ValueLayout.JAVA_INT, AVAIL_OUT, (int) OUT_CAPACITY);
            int rc = (int) f.deflate().invokeExact(s.strm, Z_SYNC_FLUSH);
            // Room left proves the flush complete: deflate stops early only when the output is full.
            if (rc != Z_OK && rc != Z_BUF_ERROR || s.strm.get(ValueLayout.JAVA_INT, AVAIL_IN) != 0
                    || s.strm.get(ValueLayout.JAVA_INT, AVAIL_OUT) == 0) {
                throw new IllegalStateException("zlib deflate returned " + rc);
            }
            int produced = (int) (OUT_CAPACITY - Integer.toUnsignedLong(s.strm.get(ValueLayout.JAVA_INT, AVAIL_OUT)));
            MemorySegment.copy(s.out, ValueLayout.JAVA_BYTE, 0, out, 0, produced);
            check((int) f.reset().invokeExact(s.strm), "deflateReset");
            return produced;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("zlib: " + t, t);
        }
    }

    private static void check(int rc, String call) {
        if (rc != Z_OK) {
            throw new IllegalStateException("zlib " + call + " returned " + rc);
        }
    }

    /** This thread's stream for a level, made on first use and kept for the thread's life. */
    private static Stream stream(Functions f, int level) {
        Stream[] streams = STREAMS.get();
        Stream s = streams[level];
        if (s == null) {
            Arena arena = Arena.ofAuto();
            MemorySegment strm = arena.allocate(STREAM_SIZE, 8);
            try {
                check((int) f.init().invokeExact(strm, level, 8, -15, 8, 0, f.version(), (int) STREAM_SIZE),
                        "deflateInit2_");
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("zlib: " + t, t);
            }
            // deflateEnd is never called: the stream lives as long as its thread, the process's workers.
            s = new Stream(strm, arena.allocate(MAX_BLOCK), arena.allocate(OUT_CAPACITY));
            streams[level] = s;
        }
        return s;
    }

    private record Stream(MemorySegment strm, MemorySegment in, MemorySegment out) {}
}

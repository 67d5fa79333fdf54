package dev.berth.layers.testing;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * What every fuzz target asserts of one input, whatever it parses: the code under test returns, or throws
 * its module's own exception with a message; anything else (a NullPointerException, an index out of
 * bounds, a StackOverflowError, a library's exception leaking through) escapes and is the finding. It also
 * bounds what one small input may cost: the bytes the calling thread allocates for it.
 *
 * <p>Time is bounded by the fuzzer ({@code bench/fuzz.sh} gives each input a timeout) and not here, except
 * where a target states a tighter bound for fuzzing mode: the regression run of the suite has no timed
 * assertions.
 */
public final class Fuzzing {
    private Fuzzing() {}

    /** The code of one fuzz input; it may throw anything, which {@link #expect} sorts. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * Runs {@code body}: it may end normally or with an exception of the type {@code allowed} (or a subtype)
     * that carries a message; any other throwable is rethrown, as is an allowed one without a message.
     * Afterwards, more than {@code maxAllocated} bytes allocated by this thread is a finding too.
     */
    public static void expect(Class<? extends Throwable> allowed, long maxAllocated, Body body) throws Exception {
        long allocated = once(allowed, body);
        if (allocated > maxAllocated) {
            // The first run of a code path also pays for loading (and the fuzzer's instrumenting) its
            // classes on this thread; what the input itself costs is what a second run allocates.
            allocated = once(allowed, body);
        }
        if (allocated > maxAllocated) {
            throw new AssertionError("allocated " + allocated + " bytes for one input (bound " + maxAllocated + ")");
        }
    }

    private static long once(Class<? extends Throwable> allowed, Body body) throws Exception {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        try {
            body.run();
        } catch (Throwable t) {
            if (!allowed.isInstance(t)) {
                throw t;
            }
            if (t.getMessage() == null || t.getMessage().isBlank()) {
                throw new AssertionError(allowed.getSimpleName() + " without a message", t);
            }
        }
        return THREADS.getCurrentThreadAllocatedBytes() - before;
    }

    /** Whether the fuzzer is mutating inputs ({@code JAZZER_FUZZ} set), not replaying the corpus. */
    public static boolean fuzzing() {
        String v = System.getenv("JAZZER_FUZZ");
        return v != null && !v.isEmpty();
    }

    /**
     * The fuzz targets of a test class (its methods annotated {@code @FuzzTest}), for a check that each has
     * a non-empty corpus on the classpath: a target whose inputs were not wired in would otherwise replay
     * only the empty input, and pass.
     */
    public static List<String> targets(Class<?> testClass) {
        return Arrays.stream(testClass.getDeclaredMethods())
                .filter(m -> Arrays.stream(m.getAnnotations())
                        .anyMatch(a -> a.annotationType().getSimpleName().equals("FuzzTest")))
                .map(Method::getName)
                .sorted()
                .toList();
    }

    /** The regression inputs of one target, where Jazzer reads them: {@code <Class>Inputs/<method>/} beside the class. */
    public static List<Path> corpus(Class<?> testClass, String target) throws Exception {
        URL dir = testClass.getResource(testClass.getSimpleName() + "Inputs/" + target);
        if (dir == null) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(Path.of(dir.toURI()))) {
            return files.filter(Files::isRegularFile).sorted().toList();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(dir.toString(), e);
        }
    }
}

package dev.berth.layers.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.testing.Tools;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The system zlib and the JDK's bundled one must give the same bytes, or a layer's digest would depend on
 * which one a machine has.
 */
class SystemZlibTest {

    @Test
    void systemZlibDeflatesExactlyAsTheJdk() {
        if (!SystemZlib.available()) {
            String why = "no libz.so.1 on this machine (Debian package zlib1g)";
            if (Tools.inCi()) {
                throw new AssertionError(why);
            }
            Assumptions.abort(why);
        }
        Random r = new Random(42);
        byte[] previous = null;
        for (int block = 0; block < 10; block++) {
            int size = block == 9 ? 777 : block % 2 == 0 ? SystemZlib.MAX_BLOCK : ParallelGzipOutputStream.MIN_BLOCK + block;
            byte[] data = new byte[size];
            for (int i = 0; i < size; i++) {
                // text-like, repetitive, incompressible runs, in turns
                data[i] = (byte) (block % 3 == 0 ? 'a' + r.nextInt(20) : block % 3 == 1 ? (i / 64) % 7 : r.nextInt());
            }
            byte[] dictionary = previous == null ? null : Arrays.copyOfRange(previous, previous.length - 32768, previous.length);
            for (int level : new int[] {1, 6, 9}) {
                byte[] system = new byte[ParallelGzipOutputStream.OUT_CAPACITY];
                byte[] jdk = new byte[ParallelGzipOutputStream.OUT_CAPACITY];
                int n = SystemZlib.deflate(data, size, dictionary, level, system);
                assertThat(Arrays.copyOf(system, n)).as("block %d level %d", block, level)
                        .isEqualTo(Arrays.copyOf(jdk, ParallelGzipOutputStream.jdkDeflate(data, size, dictionary, level, jdk)));
            }
            previous = data;
        }
    }
}

package dev.berth.layers.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts another JVM on the test classpath, to test what several processes do to one store. */
public final class Jvm {
    private Jvm() {}

    /** The command line that runs {@code mainClass} with {@code args} in a fresh JVM. */
    public static List<String> command(Class<?> mainClass, String... args) {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(cp);
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    public static Process start(Class<?> mainClass, String... args) {
        try {
            return new ProcessBuilder(command(mainClass, args)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

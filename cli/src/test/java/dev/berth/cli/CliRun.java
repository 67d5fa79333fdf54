package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/** Runs berth in this JVM against a given BERTH_HOME and captures what it prints. */
final class CliRun {
    record Result(int exitCode, String out, String err) {
        Result ok() {
            assertThat(exitCode).as("exit code; stderr: %s", err).isZero();
            return this;
        }
    }

    static Result berth(Path home, String... args) {
        String previous = System.getProperty("berth.home");
        System.setProperty("berth.home", home.toString());
        try {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Berth.execute(new PrintWriter(out), new PrintWriter(err), args);
            return new Result(code, out.toString(), err.toString());
        } finally {
            if (previous == null) {
                System.clearProperty("berth.home");
            } else {
                System.setProperty("berth.home", previous);
            }
        }
    }

    /** What {@code berth run --rm IMAGE ARGS} prints, in a JVM of its own (the container's output is the process's). */
    static String runInJvm(Path home, String image, String... args) {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("run", "--rm", image));
        cmd.addAll(java.util.List.of(args));
        return dev.berth.layers.testing.Tools.run(dev.berth.layers.testing.Jvm.command(Berth.class,
                cmd.toArray(String[]::new)), java.util.Map.of("BERTH_HOME", home.toString()), null).ok().stdout();
    }

    private CliRun() {}
}

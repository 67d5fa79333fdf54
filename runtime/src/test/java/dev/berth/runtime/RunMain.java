package dev.berth.runtime;

import dev.berth.layers.BerthHome;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Starts a container from another JVM, so a test can kill that JVM (as a user may kill berth) and see
 * what is left. Usage: RunMain HOME IMAGE REMOVE(true|false) COMMAND... Prints "started ID PID".
 */
public final class RunMain {
    private RunMain() {}

    public static void main(String[] args) {
        ContainerRuntime rt = ContainerRuntime.open(new BerthHome(Path.of(args[0])));
        RunningContainer c = rt.start(args[1], RunOptions.builder().remove(Boolean.parseBoolean(args[2]))
                .command(Arrays.asList(args).subList(3, args.length)).build());
        System.out.println("started " + c.id() + " " + c.pid().orElse(-1));
        System.out.flush();
        System.exit(c.await().exitCode());
    }
}

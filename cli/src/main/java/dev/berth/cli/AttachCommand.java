package dev.berth.cli;

import dev.berth.runtime.ContainerException;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth attach}: the terminal to a detached container, as docker attach: its output as it comes,
 * the input to it when it was run with -i, ^P^Q to detach; without a tty, signals berth gets go to the
 * container (--sig-proxy). Exits with the container's code once it ended.
 */
@Command(name = "attach", description = "Attach this terminal to a running detached container (^P^Q detaches).")
final class AttachCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONTAINER", description = "A container's name or id.")
    String name;

    @Option(names = "--no-stdin", description = "Do not send standard input to the container.")
    boolean noStdin;

    @Option(names = "--sig-proxy", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Forward the signals berth gets (INT, TERM, HUP, USR1) to the container (default: true;"
                    + " with a tty, ^C reaches it through the tty).")
    boolean sigProxy;

    @Override
    public Integer call() {
        var control = ContainerVerbs.runtime().control();
        if (sigProxy) {
            Signals.install().forwardTo(signal -> {
                try {
                    control.kill(name, signal);
                    return true;
                } catch (ContainerException gone) {
                    return false;
                }
            });
        }
        OptionalInt code;
        try {
            code = control.attach(name, !noStdin);
        } catch (ContainerException e) {
            throw new ContainerFailure(e);
        }
        return code.orElse(0);
    }
}

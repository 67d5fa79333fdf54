package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerRuntime;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth rm}: removes containers; each failure is reported and the others still removed (exit 1). */
@Command(name = "rm", description = "Remove containers.")
final class RmCommand implements Callable<Integer> {
    @Option(names = {"-f", "--force"}, description = "Kill a running container first.")
    boolean force;

    @Parameters(arity = "1..*", paramLabel = "NAME", description = "Container names or ids (or id prefixes).")
    List<String> names;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        ContainerRuntime runtime;
        try {
            runtime = ContainerRuntime.open(BerthHome.fromEnvironment());
        } catch (ContainerException e) {
            throw new ContainerFailure(e);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int code = 0;
        for (String n : names) {
            try {
                runtime.remove(List.of(n), force);
                out.println(n);
            } catch (ContainerException e) {
                err.println("berth: rm " + n + ": " + e.getMessage());
                code = 1;
            }
        }
        out.flush();
        err.flush();
        return code;
    }
}

package dev.berth.cli;

import dev.berth.layers.Reference;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth logout [REGISTRY]}: removes stored credentials, where docker keeps them. */
@Command(name = "logout", description = "Log out from a registry (default: Docker Hub).")
final class LogoutCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "REGISTRY", description = "The registry (default: docker.io).")
    String registry;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        String target = RegistryConfig.normaliseRegistry(registry == null ? Reference.DOCKER_HUB : registry);
        PrintWriter out = spec.commandLine().getOut();
        try (RegistryClient client = RegistryClient.create(RegistryConfig.fromEnvironment())) {
            out.println(client.logout(target) ? "Removing login credentials for " + target : "Not logged in to " + target);
        }
        out.flush();
        return 0;
    }
}

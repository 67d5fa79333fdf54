package dev.berth.cli;

import dev.berth.layers.Reference;
import dev.berth.registry.Credentials;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import dev.berth.registry.RegistryException;
import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth login [-u USER] [--password-stdin] [REGISTRY]}: checks credentials with the registry and
 * stores them where docker would (its credential helper when one is configured, else
 * {@code ~/.docker/config.json}).
 */
@Command(name = "login", description = "Log in to a registry (default: Docker Hub).")
final class LoginCommand implements Callable<Integer> {
    @Option(names = {"-u", "--username"}, paramLabel = "USER", description = "The user name.")
    String username;

    @Option(names = "--password-stdin", description = "Read the password (or token) from standard input.")
    boolean passwordStdin;

    @Parameters(arity = "0..1", paramLabel = "REGISTRY", description = "The registry (default: docker.io).")
    String registry;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        String target = RegistryConfig.normaliseRegistry(registry == null ? Reference.DOCKER_HUB : registry);
        Console console = System.console();
        boolean interactive = console != null && console.isTerminal();
        String user = username;
        if (user == null || user.isBlank()) {
            if (passwordStdin || !interactive) {
                throw new RegistryException("login to " + target + ": give a user name with -u"
                        + (passwordStdin ? " when the password comes from stdin" : " (no terminal to ask on)"));
            }
            user = console.readLine("Username: ");
            if (user == null || user.isBlank()) {
                throw new RegistryException("login to " + target + ": no user name given");
            }
        }
        String password;
        if (passwordStdin) {
            password = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("[\r\n]+$", "");
        } else if (interactive) {
            char[] p = console.readPassword("Password: ");
            password = p == null ? "" : new String(p);
        } else {
            throw new RegistryException("login to " + target + ": no terminal to ask for the password on; "
                    + "use --password-stdin");
        }
        if (password.isEmpty()) {
            throw new RegistryException("login to " + target + ": empty password");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (RegistryClient client = RegistryClient.create(RegistryConfig.fromEnvironment())) {
            RegistryClient.LoginResult r = client.login(target, new Credentials.Basic(user.trim(), password));
            if (r.storedIn().endsWith("config.json")) {
                err.println("berth: warning: the password is stored unencoded in " + r.storedIn()
                        + "; configure a credential helper (credsStore) to keep it elsewhere");
                err.flush();
            }
        }
        out.println("Login Succeeded");
        out.flush();
        return 0;
    }
}

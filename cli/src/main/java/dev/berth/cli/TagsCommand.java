package dev.berth.cli;

import dev.berth.layers.Reference;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import dev.berth.registry.RegistryException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth tags REPOSITORY}: the tags of a repository in its registry, one per line. */
@Command(name = "tags", description = "List the tags of a repository in a registry.")
final class TagsCommand implements Callable<Integer> {
    @Parameters(paramLabel = "REPOSITORY", description = "[registry/]repository, without tag or digest.")
    String repository;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Reference repo = Reference.parseRepository(repository);
        if (repo.tag().isPresent() || repo.digest().isPresent()) {
            throw new RegistryException("tags " + repository + ": give a repository without a tag or digest");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (RegistryClient client = RegistryClient.create(RegistryConfig.fromEnvironment())) {
            for (String t : client.tags(repo)) {
                out.println(t);
            }
        }
        out.flush();
        return 0;
    }
}

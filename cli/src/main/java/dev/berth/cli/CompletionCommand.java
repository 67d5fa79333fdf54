package dev.berth.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code berth completion}: a bash (and zsh) completion script for berth. */
@Command(name = "completion", description = "Print a bash/zsh completion script: source <(berth completion)")
final class CompletionCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        CommandLine root = Berth.commandLine();
        spec.commandLine().getOut().print(AutoComplete.bash("berth", root));
    }
}

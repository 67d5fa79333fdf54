package dev.berth.cli;

import dev.berth.layers.BerthException;
import dev.berth.layers.internal.WarmUp;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code berth} command: one thin class per verb, each parsing its options, calling one library method
 * and rendering the result. Errors are one line on stderr, {@code berth: <what>: <why>}, exit 1; with
 * {@code --debug} the stack trace follows.
 */
@Command(name = "berth",
        mixinStandardHelpOptions = true,
        scope = CommandLine.ScopeType.INHERIT,
        versionProvider = VersionCommand.Provider.class,
        description = "A daemonless container image toolkit: build, pull, push and run OCI images.")
public final class Berth implements Runnable {
    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces with errors.")
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * The verbs, in the order help lists them. Only the verb being run is given to picocli: building the
     * model of a command reads its annotations by reflection, and for every verb that costs a cold JVM
     * more than most commands themselves.
     */
    static final List<Class<?>> VERBS = List.of(
            BuildCommand.class,
            ImagesCommand.class,
            InspectCommand.class,
            TagCommand.class,
            RmiCommand.class,
            SaveCommand.class,
            LoadCommand.class,
            ImportCommand.class,
            PruneCommand.class,
            ManifestCommand.class,
            PullCommand.class, PushCommand.class, LoginCommand.class, LogoutCommand.class, TagsCommand.class,
            RunCommand.class, ExecCommand.class, PsCommand.class, RmCommand.class, ContainerVerbs.Stop.class, ContainerVerbs.Kill.class,
            ContainerVerbs.Wait.class, ContainerVerbs.Logs.class, ContainerVerbs.Port.class,
            ContainerVerbs.Pause.class, ContainerVerbs.Unpause.class, StartCommand.Start.class,
            StartCommand.Restart.class, ContainerFilesCommands.Diff.class, ContainerFilesCommands.Commit.class,
            ContainerFilesCommands.Export.class, CpCommand.class, AttachCommand.class, ProcessCommands.Top.class, ProcessCommands.Stats.class,
            BundleCommand.class, HistoryCommand.class, AnalyzeCommand.class, VerifyCommand.class, GenerateCommand.class, SystemCommand.class,
            InfoCommand.class, ContainerVerbs.Cleanup.class,
            VersionCommand.class,
            CompletionCommand.class);

    public static void main(String[] args) {
        // while picocli builds the command's model on this thread (tens of milliseconds of reflection)
        Optional<Class<?>> verb = verb(args);
        if (verb.filter(v -> v != VersionCommand.class && v != CompletionCommand.class).isPresent()) {
            WarmUp.inBackground(verb.get() == BuildCommand.class); // a build walks its context next
        }
        System.exit(execute(args));
    }

    /** Runs berth with arguments and returns its exit code. */
    public static int execute(String... args) {
        CommandLine cli = commandLine(args);
        int code = cli.execute(args);
        cli.getOut().flush();
        cli.getErr().flush();
        return code;
    }

    /** Runs berth with its output and errors going to the given writers (for tests and embedding). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = commandLine(args);
        cli.setOut(out);
        cli.setErr(err);
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** The command line with every verb (for help and completion). */
    static CommandLine commandLine() {
        return commandLine(new String[0]);
    }

    /** The command line for these arguments: only the verb they name, or every verb when they name none. */
    static CommandLine commandLine(String[] args) {
        CommandLine cli = new CommandLine(new Berth());
        Optional<Class<?>> verb = verb(args);
        if (verb.isEmpty()) { // berth help [VERB], berth --help, berth alone: the help verb too
            cli.addSubcommand(new CommandLine.HelpCommand());
        }
        for (Class<?> c : verb.map(List::<Class<?>>of).orElse(VERBS)) {
            try {
                cli.addSubcommand(c.getDeclaredConstructor().newInstance());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot create " + c.getSimpleName(), e);
            }
        }
        cli.setExecutionExceptionHandler(Berth::handleError);
        cli.setParameterExceptionHandler(Berth::handleUsageError);
        return cli;
    }

    /**
     * The verbs by name and alias, for finding the one to run without parsing every verb's annotations
     * (reading a class's annotations costs a cold JVM about half a millisecond each). A test checks this
     * table against the {@code @Command} annotations of {@link #VERBS}.
     */
    static final Map<String, Class<?>> BY_NAME = Map.ofEntries(
            Map.entry("build", BuildCommand.class), Map.entry("images", ImagesCommand.class),
            Map.entry("ls", ImagesCommand.class), Map.entry("inspect", InspectCommand.class),
            Map.entry("tag", TagCommand.class), Map.entry("rmi", RmiCommand.class),
            Map.entry("save", SaveCommand.class), Map.entry("load", LoadCommand.class),
            Map.entry("import", ImportCommand.class), Map.entry("manifest", ManifestCommand.class),
            Map.entry("prune", PruneCommand.class), Map.entry("pull", PullCommand.class),
            Map.entry("push", PushCommand.class), Map.entry("login", LoginCommand.class),
            Map.entry("logout", LogoutCommand.class), Map.entry("tags", TagsCommand.class),
            Map.entry("run", RunCommand.class), Map.entry("ps", PsCommand.class), Map.entry("rm", RmCommand.class),
            Map.entry("bundle", BundleCommand.class), Map.entry("info", InfoCommand.class),
            Map.entry("exec", ExecCommand.class), Map.entry("stop", ContainerVerbs.Stop.class), Map.entry("kill", ContainerVerbs.Kill.class),
            Map.entry("wait", ContainerVerbs.Wait.class), Map.entry("logs", ContainerVerbs.Logs.class),
            Map.entry("port", ContainerVerbs.Port.class), Map.entry("pause", ContainerVerbs.Pause.class),
            Map.entry("unpause", ContainerVerbs.Unpause.class), Map.entry("start", StartCommand.Start.class),
            Map.entry("restart", StartCommand.Restart.class), Map.entry("diff", ContainerFilesCommands.Diff.class),
            Map.entry("commit", ContainerFilesCommands.Commit.class), Map.entry("export", ContainerFilesCommands.Export.class),
            Map.entry("cp", CpCommand.class), Map.entry("attach", AttachCommand.class),
            Map.entry("top", ProcessCommands.Top.class), Map.entry("stats", ProcessCommands.Stats.class),
            Map.entry("history", HistoryCommand.class),
            Map.entry("analyze", AnalyzeCommand.class), Map.entry("verify", VerifyCommand.class), Map.entry("generate", GenerateCommand.class),
            Map.entry("system", SystemCommand.class),
            Map.entry("container-cleanup", ContainerVerbs.Cleanup.class),
            Map.entry("version", VersionCommand.class),
            Map.entry("completion", CompletionCommand.class));

    /** The verb the arguments name: the first argument that is not one of berth's own options. */
    private static Optional<Class<?>> verb(String[] args) {
        for (String a : args) {
            if (a.equals("--debug")) {
                continue;
            }
            if (a.startsWith("-")) {
                return Optional.empty();
            }
            return Optional.ofNullable(BY_NAME.get(a));
        }
        return Optional.empty();
    }

    private static int handleError(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        boolean debug = parsed.hasMatchedOption("--debug")
                || parsed.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--debug"));
        err.println("berth: " + message(e));
        if (debug) {
            e.printStackTrace(err);
        }
        err.flush();
        return cli.getExitCodeExceptionMapper() != null ? cli.getExitCodeExceptionMapper().getExitCode(e)
                : e instanceof ExitCodeException x ? x.exitCode() : 1;
    }

    private static int handleUsageError(CommandLine.ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        err.println("berth: " + e.getMessage());
        err.println("See 'berth " + commandPath(e.getCommandLine()) + "--help'.");
        err.flush();
        return 1;
    }

    private static String commandPath(CommandLine cli) {
        String qualified = cli.getCommandSpec().qualifiedName(" ");
        String path = qualified.startsWith("berth") ? qualified.substring("berth".length()).trim() : qualified;
        return path.isEmpty() ? "" : path + " ";
    }

    /** The user-facing message: berth's own errors as they are, anything else with its type. */
    static String message(Throwable e) {
        if (e instanceof BerthException) {
            return e.getMessage();
        }
        if (e instanceof java.nio.file.NoSuchFileException n) {
            return n.getFile() + ": no such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException a) {
            return a.getFile() + ": permission denied";
        }
        if (e instanceof java.io.UncheckedIOException u && u.getCause() != null) {
            return message(u.getCause());
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /** An error that carries its own exit code (berth run: 125, 126, 127). */
    public interface ExitCodeException {
        int exitCode();
    }
}

package dev.berth.cli;

import dev.berth.runtime.NetworkMode;
import dev.berth.runtime.Resources;
import dev.berth.runtime.RunOptions;
import dev.berth.runtime.Volume;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options {@code run} and {@code bundle} share: what the container is, as docker names them. */
final class ContainerOptions {
    @Option(names = {"-e", "--env"}, paramLabel = "K=V",
            description = "Set an environment variable (K alone copies it from berth's environment).")
    List<String> env = new ArrayList<>();

    @Option(names = "--env-file", paramLabel = "FILE", description = "Read environment variables from a file.")
    List<Path> envFiles = new ArrayList<>();

    @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Working directory (created if missing).")
    String workdir;

    @Option(names = {"-u", "--user"}, paramLabel = "USER[:GROUP]",
            description = "User and group, by name (from the image's /etc/passwd and /etc/group) or number.")
    String user;

    @Option(names = "--entrypoint", paramLabel = "CMD", description = "Replace the image's ENTRYPOINT (and drop its CMD).")
    String entrypoint;

    @Option(names = {"-h", "--hostname"}, paramLabel = "NAME", description = "The container's host name.")
    String hostname;

    @Option(names = {"-v", "--volume"}, paramLabel = "HOST:CTR[:ro]", description = "Bind a host path into the container.")
    List<String> volumes = new ArrayList<>();

    @Option(names = "--read-only", description = "Mount the container's root read-only.")
    boolean readOnly;

    @Option(names = "--network", paramLabel = "none|host", defaultValue = "none",
            description = "none: an own network namespace with loopback only (default); host: the host's.")
    String network;

    @Option(names = "--add-host", paramLabel = "HOST:IP", description = "Add a line to /etc/hosts.")
    List<String> addHosts = new ArrayList<>();

    @Option(names = "--dns", paramLabel = "IP", description = "A nameserver for /etc/resolv.conf (replaces the host's).")
    List<String> dns = new ArrayList<>();

    @Option(names = "--dns-search", paramLabel = "DOMAIN", description = "A search domain for /etc/resolv.conf.")
    List<String> dnsSearch = new ArrayList<>();

    @Option(names = "--dns-option", paramLabel = "OPTION", description = "An option for /etc/resolv.conf.")
    List<String> dnsOptions = new ArrayList<>();

    @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", description = "Memory limit, e.g. 256m or 1g.")
    String memory;

    @Option(names = "--cpus", paramLabel = "N", description = "CPU limit, e.g. 1.5.")
    String cpus;

    @Option(names = "--pids-limit", paramLabel = "N", description = "Limit on the number of processes.")
    String pidsLimit;

    @Option(names = {"-t", "--tty"}, description = "Give the container a terminal (a pty).")
    boolean tty;

    @Option(names = "--userns", paramLabel = "host|keep-id",
            description = "Rootless: host (default): root inside is you; keep-id: your uid and gid are the same "
                    + "inside, and the command runs as them.")
    String userns;

    @Option(names = "--security-opt", paramLabel = "OPT",
            description = "seccomp=unconfined (no filter), seccomp=FILE (a profile in docker's JSON format) or "
                    + "seccomp=builtin (berth's default); label=disable and apparmor=unconfined are accepted and "
                    + "change nothing (berth applies neither).")
    List<String> securityOpts = new ArrayList<>();

    /** The options as a builder; invalid values are {@link dev.berth.runtime.ContainerException}s (exit 125). */
    RunOptions.Builder toBuilder(List<String> command) {
        RunOptions.Builder b = RunOptions.builder().env(env).readOnly(readOnly).tty(tty)
                .network(NetworkMode.parse(network)).command(command);
        envFiles.forEach(b::envFile);
        if (workdir != null) {
            b.workdir(workdir);
        }
        if (user != null) {
            b.user(user);
        }
        if (entrypoint != null) {
            b.entrypoint(entrypoint);
        }
        if (hostname != null) {
            b.hostname(hostname);
        }
        volumes.forEach(v -> b.volume(Volume.parse(v)));
        b.names(dev.berth.runtime.NameResolution.parse(addHosts, dns, dnsSearch, dnsOptions));
        if (userns != null) {
            switch (userns) {
                case "host", "" -> { }
                case "keep-id" -> b.keepId(true);
                default -> throw new dev.berth.runtime.ContainerException("--userns: unknown mode \"" + userns
                        + "\" (berth has host, the default, and keep-id)");
            }
        }
        for (String opt : securityOpts) {
            securityOpt(b, opt);
        }
        b.resources(new Resources(
                memory == null ? OptionalLong.empty() : OptionalLong.of(Resources.parseMemory(memory)),
                cpus == null ? OptionalLong.empty() : OptionalLong.of(Resources.parseCpus(cpus)),
                pidsLimit == null ? OptionalLong.empty() : Resources.parsePidsLimit(pidsLimit)));
        return b;
    }

    private static void securityOpt(RunOptions.Builder b, String opt) {
        int eq = opt.indexOf('=') >= 0 ? opt.indexOf('=') : opt.indexOf(':'); // docker once took seccomp:FILE
        String key = eq < 0 ? opt : opt.substring(0, eq);
        String value = eq < 0 ? "" : opt.substring(eq + 1);
        switch (key) {
            case "seccomp" -> {
                if (value.isEmpty()) {
                    throw new dev.berth.runtime.ContainerException("--security-opt seccomp needs a value: "
                            + "unconfined, builtin or a profile file");
                }
                b.seccomp(dev.berth.runtime.Seccomp.parse(value));
            }
            case "label" -> {
                if (!value.equals("disable")) {
                    throw new dev.berth.runtime.ContainerException("--security-opt " + opt
                            + ": berth applies no SELinux labels; only label=disable is accepted");
                }
            }
            case "apparmor" -> {
                if (!value.equals("unconfined")) {
                    throw new dev.berth.runtime.ContainerException("--security-opt " + opt
                            + ": berth applies no AppArmor profile; only apparmor=unconfined is accepted");
                }
            }
            default -> throw new dev.berth.runtime.ContainerException("--security-opt: unknown option \"" + opt
                    + "\" (berth has seccomp=unconfined|builtin|FILE)");
        }
    }

    /** A command whose last positional parameter is followed by the container's command. */
    interface TakesCommand {
        void command(List<String> command);
    }

    /**
     * Put on the last positional parameter of berth's own (the image, or the bundle's directory): every
     * argument after it is the container's command, as in {@code docker run}, so in
     * {@code berth run busybox ls -l} the {@code -l} is never read as berth's option. (A parser setting
     * cannot say this: picocli copies the root command's parser settings onto each verb.)
     */
    static final class RestIsCommand implements CommandLine.IParameterPreprocessor {
        @Override
        public boolean preprocess(java.util.Stack<String> args, CommandLine.Model.CommandSpec spec,
                                  CommandLine.Model.ArgSpec argSpec, java.util.Map<String, Object> info) {
            String value = args.pop();
            List<String> rest = new ArrayList<>();
            while (!args.isEmpty()) {
                rest.add(args.pop());
            }
            ((TakesCommand) spec.userObject()).command(rest);
            args.push(value); // picocli assigns this parameter itself
            return false;
        }
    }
}

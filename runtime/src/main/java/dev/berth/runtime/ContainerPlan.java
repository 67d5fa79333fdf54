package dev.berth.runtime;

import dev.berth.layers.ContainerConfig;
import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.ContainerSpec.Namespace;
import dev.berth.runtime.internal.LayeredFs;
import dev.berth.runtime.internal.Monitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything resolved from an image's config and the run options, before anything is created: hostname,
 * user, environment, command (checked to be runnable), working directory, PATH; and from it the complete
 * {@link ContainerSpec}, for the helper or a bundle. {@code keptEnv} is the environment but for the
 * {@code HOME} taken from the user: what the container's execs start from.
 */
record ContainerPlan(String hostname, ImageUser user, List<String> env, List<String> keptEnv, List<String> args,
                     String cwd, String searchPath) {

    /**
     * Resolves the image's config and the options against the image's files; errors (with docker's exit
     * codes) are prefixed with {@code what}.
     */
    static ContainerPlan resolve(String what, ContainerImage image, LayeredFs fs, RunOptions o, String id,
                                 Map<String, String> hostEnv) {
        try {
            Platform platform = image.platform();
            // a foreign architecture runs through QEMU when binfmt_misc has it; else say what to install
            java.util.Optional<String> emulation = Emulation.missing(platform);
            if (emulation.isPresent()) {
                throw new ContainerException("image " + image.name() + " is for " + platform + ": " + emulation.get());
            }
            ContainerConfig cc = image.config();
            String hostname = o.hostname().orElseGet(() -> o.network().equals(NetworkMode.HOST) ? EtcFiles.hostHostname()
                    : id.substring(0, 12));
            if (hostname.isEmpty() || hostname.length() > 64 || !hostname.matches("[A-Za-z0-9][A-Za-z0-9.-]*")) {
                throw new ContainerException("invalid hostname \"" + hostname + "\"");
            }
            ImageUser user = ImageUser.resolve(o.user().or(() -> cc.user().filter(u -> !u.isBlank())), fs);
            List<String> keptEnv = Environment.configured(cc.env(), o.envFiles(), o.env(), hostname, o.tty(), hostEnv);
            List<String> env = Environment.withHome(keptEnv, user);
            List<String> args = command(image.name(), cc, o);
            String cwd = ContainerPaths.normalize(o.workdir().or(() -> cc.workingDir().filter(w -> !w.isBlank()))
                    .map(w -> w.startsWith("/") ? w : "/" + w).orElse("/"), "working directory");
            String searchPath = Environment.get(env, "PATH").orElse(Defaults.PATH);
            List<String> volumeTargets = o.volumes().stream().map(Volume::container).toList();
            CommandCheck.check(fs, args, cwd, searchPath, user, volumeTargets);
            return new ContainerPlan(hostname, user, env, keptEnv, args, cwd, searchPath);
        } catch (ContainerException e) {
            throw new ContainerException(e.exitCode(), what + ": " + e.getMessage());
        } catch (LayersException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    /** ENTRYPOINT + CMD as docker combines them with {@code --entrypoint} and a COMMAND. */
    static List<String> command(String image, ContainerConfig cc, RunOptions o) {
        List<String> entrypoint = o.entrypoint().map(e -> e.isEmpty() ? List.<String>of() : List.of(e))
                .orElseGet(() -> cc.entrypoint().orElse(List.of()));
        List<String> cmd = !o.command().isEmpty() ? o.command()
                : o.entrypoint().isPresent() ? List.of() : cc.cmd().orElse(List.of());
        List<String> args = new ArrayList<>(entrypoint);
        args.addAll(cmd);
        if (args.isEmpty()) {
            throw new ContainerException("image " + image + " has no command (no ENTRYPOINT or CMD): "
                    + "give one after the image name, e.g. berth run " + image + " /bin/sh");
        }
        return args;
    }

    static boolean hasCgroupNamespaces() {
        return Files.exists(Path.of("/proc/self/ns/cgroup"));
    }

    /** The container: the system mounts, then the /etc files, then the volumes and other mounts, parents first. */
    ContainerSpec spec(String id, RunOptions o, ContainerSpec.Root root, List<Mount> system, List<Mount> etc,
                       List<Mount> extra, List<Path> cgroupProcs, Optional<IdMaps> userns) {
        Set<Namespace> ns = EnumSet.of(Namespace.MOUNT, Namespace.PID, Namespace.UTS, Namespace.IPC);
        if (o.network().equals(NetworkMode.NONE)) {
            ns.add(Namespace.NETWORK);
        }
        if (hasCgroupNamespaces()) {
            ns.add(Namespace.CGROUP);
        }
        List<Mount> mounts = new ArrayList<>(system);
        // in a user namespace no device can be made: the host's are bound instead, as runc's rootless spec does
        List<ContainerSpec.Device> devices = userns.isPresent() ? List.of() : Defaults.DEVICES;
        if (userns.isPresent()) {
            mounts.addAll(Defaults.deviceBinds());
        }
        mounts.addAll(etc);
        List<Mount> volumes = new ArrayList<>();
        for (Volume v : o.volumes()) {
            List<String> opts = new ArrayList<>(List.of("rbind", "rprivate"));
            opts.add(v.readOnly() ? "ro" : "rw");
            volumes.add(new Mount(v.container(), "bind", v.host().toString(), opts));
        }
        volumes.addAll(extra);
        // parents before children, as docker sorts them, so a volume inside another lands on top of it
        volumes.sort(Comparator.comparingInt(m -> ContainerPaths.components(m.destination()).size()));
        mounts.addAll(volumes);
        ContainerSpec.ProcessSpec process = new ContainerSpec.ProcessSpec(args, env, cwd, user.uid(), user.gid(),
                user.additionalGids(), Capability.DOCKER_DEFAULT, o.noNewPrivileges(), Defaults.RLIMITS, o.tty(),
                o.interactive(), searchPath, o.seccomp().filter(Capability.DOCKER_DEFAULT));
        return new ContainerSpec(id, hostname, process, root, mounts, devices, Defaults.symlinks(),
                Defaults.MASKED_PATHS, Defaults.READONLY_PATHS, ns, o.resources(), cgroupProcs, o.init(), o.noPivot(),
                userns);
    }

    /** Where the helper's standard streams go, for these options. */
    static Monitor.Streams stdio(RunOptions o) {
        if (o.stderr() instanceof Stdio.Pipe && !(o.stdout() instanceof Stdio.Pipe)) {
            throw new ContainerException("stderr can be a pipe only together with stdout");
        }
        if (o.stdin() instanceof Stdio.Pipe) {
            throw new ContainerException("stdin cannot be a pipe");
        }
        return new Monitor.Streams(redirect(o.stdin(), true), redirect(o.stdout(), false), redirect(o.stderr(), false),
                o.stderr() instanceof Stdio.Pipe);
    }

    private static ProcessBuilder.Redirect redirect(Stdio s, boolean input) {
        return switch (s) {
            case Stdio.Inherit i -> ProcessBuilder.Redirect.INHERIT;
            case Stdio.Pipe p -> ProcessBuilder.Redirect.PIPE;
            case Stdio.Null n -> input ? ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))
                    : ProcessBuilder.Redirect.DISCARD;
            case Stdio.File f -> {
                if (input && !Files.isReadable(f.path())) {
                    throw new ContainerException("cannot read stdin from " + f.path());
                }
                java.io.File file = f.path().toAbsolutePath().toFile();
                yield input ? ProcessBuilder.Redirect.from(file)
                        : f.append() ? ProcessBuilder.Redirect.appendTo(file) : ProcessBuilder.Redirect.to(file);
            }
        };
    }
}

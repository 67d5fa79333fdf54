package dev.berth.runtime;

import dev.berth.layers.BerthHome;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.ContainerSpec.Namespace;
import dev.berth.runtime.internal.HelperBinary;
import dev.berth.runtime.internal.HelperProtocol;
import dev.berth.runtime.internal.LayeredFs;
import dev.berth.runtime.internal.Linux;
import dev.berth.runtime.internal.Monitor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * berth's container runtime: images from the store (or a resolver that can pull) run as processes on this
 * machine's kernel, each in its own namespaces over an overlay of the image's layer snapshots, with cgroup
 * limits. No daemon: the calling process monitors its containers, and the next berth cleans up after one
 * that was killed. Needs root.
 *
 * <pre>{@code
 * ContainerRuntime rt = ContainerRuntime.open(BerthHome.fromEnvironment());
 * RunResult r = rt.run("busybox:latest", RunOptions.builder().remove(true).command("echo", "hi").build());
 * }</pre>
 */
public final class ContainerRuntime {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final BerthHome home;
    private final ImageResolver images;
    private final SnapshotStore snapshots;
    private final ContainerStore containers;
    private final Cgroups cgroups;
    private final Map<String, String> hostEnv;

    private ContainerRuntime(BerthHome home, ImageResolver images, Cgroups cgroups, Map<String, String> hostEnv) {
        this.home = home;
        this.images = images;
        this.snapshots = SnapshotStore.of(home);
        this.containers = new ContainerStore(home.containers());
        this.cgroups = cgroups;
        this.hostEnv = hostEnv;
    }

    /** The runtime over a berth home, taking images from its store (for this machine's platform). */
    public static ContainerRuntime open(BerthHome home) {
        ImageStore store = home.openStore();
        return new ContainerRuntime(home, ImageResolver.store(store, Platform.host()),
                Cgroups.detect(Cgroups.group(home.root())), System.getenv());
    }

    /** The same runtime, taking images from {@code resolver} (e.g. the store, then a registry). */
    public ContainerRuntime withImageResolver(ImageResolver resolver) {
        return new ContainerRuntime(home, resolver, cgroups, hostEnv);
    }

    /** The same runtime with another cgroup layout (for tests). */
    ContainerRuntime withCgroups(Cgroups layout) {
        return new ContainerRuntime(home, images, layout, hostEnv);
    }

    public BerthHome home() {
        return home;
    }

    public Cgroups cgroups() {
        return cgroups;
    }

    /** Runs a container and waits for it: {@link #start} then {@link RunningContainer#await}. */
    public RunResult run(String image, RunOptions options) {
        return start(image, options).await();
    }

    /**
     * Starts a container: resolves the image and everything the container needs (user, environment,
     * command, mounts), checks that its command can run, then sets up its directory and cgroups and starts
     * it. Bad input fails here, before anything was created, with a {@link ContainerException} whose exit
     * code is docker's (125, or 126/127 for a command that cannot be executed or found).
     */
    public RunningContainer start(String imageName, RunOptions options) {
        Reference ref = reference(imageName);
        String what = "run " + ref.familiar();
        return launch(what, () -> ContainerImage.of(ref, resolve(ref, what)), options);
    }

    /**
     * Starts a container of layers that need not be an image of the store (a build's stage), with the user,
     * environment, working directory and command of {@code image}'s config unless {@code options} say
     * otherwise; as {@link #start(String, RunOptions)} in every other way.
     */
    public RunningContainer start(ContainerImage image, RunOptions options) {
        return launch("run " + image.name(), () -> image, options);
    }

    private RunningContainer launch(String what, java.util.function.Supplier<ContainerImage> source,
                                    RunOptions options) {
        requireRoot();
        // While this thread reads the image, what killed berths left behind is cleaned up (before this
        // container's name is reserved: a stale one may hold it).
        java.util.concurrent.CompletableFuture<Void> recovered = new java.util.concurrent.CompletableFuture<>();
        Thread.ofPlatform().daemon(true).name("berth-recover").start(() -> {
            try {
                recover();
                recovered.complete(null);
            } catch (RuntimeException e) {
                recovered.completeExceptionally(e);
            }
        });
        ContainerImage image = source.get();
        List<Path> lowers = snapshots.prepare(image.layers(), image.blobs());
        String id = newId();
        LayeredFs fs = new LayeredFs(lowers);
        Plan plan = plan(what, image, fs, options, id);
        List<ExtraMounts.Resolved> extra;
        try {
            extra = ExtraMounts.resolve(options.mounts(), snapshots);
        } catch (ContainerException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        }
        Path helper = HelperBinary.ensure(home.root().resolve("lib"));
        try {
            recovered.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }

        ContainerStore.Slot slot = containers.create(id, options.name());
        Cgroups.ContainerCgroup cgroup = null;
        Monitor monitor = null;
        try {
            writeEtcFiles(slot.path, plan.hostname, options.network());
            cgroup = cgroups.create(id, options.resources());
            ContainerSpec spec = spec(id, plan, options,
                    new ContainerSpec.Root.Overlay(lowers, slot.path.resolve("upper"), slot.path.resolve("work"),
                            slot.path.resolve("rootfs"), options.overlayMode(), options.readOnly()),
                    Defaults.systemMounts(cgroups instanceof Cgroups.V2 && hasCgroupNamespaces()),
                    etcMounts(slot.path), ExtraMounts.mounts(extra, slot.path, snapshots.emptyLayer()),
                    cgroup.procsFiles());
            Optional<MountPoints> commit = options.commitTo().map(to -> MountPoints.of(fs, spec.mounts()));
            monitor = Monitor.start(helper, HelperProtocol.encode(spec), stdio(options),
                    "berth-" + id.substring(0, 12));
            OptionalLong pid = monitor.containerPid();
            ContainerState state = new ContainerState(id, slot.name, image.name(), image.id(),
                    plan.args, Instant.now().toString(), ContainerInfo.Status.RUNNING,
                    OptionalLong.of(monitor.helperPid()), pid, OptionalInt.empty(), false, Optional.empty(),
                    options.remove(), cgroup.version(), cgroup.dirs().stream().map(Path::toString).toList());
            containers.write(slot.path, state);
            return new RunningContainer(this, what, slot, state, monitor, cgroup,
                    commit.map(m -> new Commit(m, options.commitTo().orElseThrow())));
        } catch (RuntimeException e) {
            if (monitor != null) { // started, then recording it failed: it must not run unrecorded
                monitor.signal(Linux.SIGKILL);
                monitor.await();
            }
            if (cgroup != null) {
                cgroup.destroy();
            }
            containers.delete(slot.path, slot.name, id);
            slot.close();
            throw e instanceof ContainerException c ? c : new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    /** Where a container's upper directory goes when it exits, and the mount points to take out of it first. */
    record Commit(MountPoints mountPoints, Path target) {}

    /** Called by {@link RunningContainer} when its container has exited. */
    RunResult finish(RunningContainer c, Monitor.Outcome outcome) {
        boolean oom = c.cgroup.oomKills() > 0;
        c.cgroup.destroy();
        int code = outcome.dockerCode();
        try {
            if (c.commit.isPresent() && outcome.error().isEmpty()) {
                commit(c.slot, c.commit.get());
            }
        } finally {
            try {
                if (c.state.autoRemove()) {
                    containers.delete(c.slot.path, c.slot.name, c.slot.id);
                } else {
                    containers.write(c.slot.path, c.state.exited(OptionalInt.of(code), oom, Instant.now().toString(),
                            ContainerInfo.Status.EXITED));
                    Files.deleteIfExists(c.slot.path.resolve(ContainerStore.RUNNING));
                }
            } catch (IOException e) {
                throw new ContainerException("cannot record the exit of container " + c.slot.name + ": "
                        + e.getMessage(), e);
            } finally {
                c.slot.close();
            }
        }
        if (outcome.error().isPresent()) {
            Monitor.HelperError err = outcome.error().get();
            throw new ContainerException(err.code(), c.what + ": " + err.message());
        }
        return new RunResult(c.slot.id, c.slot.name, code, outcome.signal(), oom);
    }

    /** Moves an exited container's upper directory to where its commit goes, without the runtime's mount points. */
    private static void commit(ContainerStore.Slot slot, Commit commit) {
        Path upper = slot.path.resolve("upper");
        try {
            commit.mountPoints().removeFrom(upper);
            Files.move(upper, commit.target(), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new ContainerException("cannot keep the changes of container " + slot.name + " in "
                    + commit.target() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes an OCI runtime bundle of an image into {@code dir} (which must not exist or be empty):
     * {@code rootfs/} (the layers flattened, as {@code umoci unpack} does) and a {@code config.json} for the
     * same container {@code berth run} would run with these options, which {@code runc run} runs unchanged.
     * Options that only make sense for a running berth ({@code --rm}, {@code --name}, {@code --init},
     * {@code -i}, volumes' liveness) are refused or ignored; /etc/hosts, /etc/hostname and /etc/resolv.conf
     * are written into the rootfs, so the bundle depends on nothing outside it.
     */
    public Path bundle(String imageName, Path dir, RunOptions options) {
        Reference ref = reference(imageName);
        String what = "bundle " + ref.familiar();
        if (options.init()) {
            throw new ContainerException(what + ": --init is not available in a bundle (its runtime has no init)");
        }
        Path abs = dir.toAbsolutePath().normalize();
        try {
            if (Files.exists(abs)) {
                try (var entries = Files.list(abs)) {
                    if (entries.findAny().isPresent()) {
                        throw new ContainerException(what + ": " + abs + " is not empty");
                    }
                }
            }
            Files.createDirectories(abs);
            Image image = resolve(ref, what);
            Path rootfs = abs.resolve("rootfs");
            LayerExtractor.unpack(image, rootfs);
            String id = newId();
            Plan plan = plan(what, ContainerImage.of(ref, image), new LayeredFs(List.of(rootfs)), options, id);
            writeEtcIntoRootfs(rootfs, plan.hostname, options.network());
            // The OCI runtime mounts /sys/fs/cgroup as the host has it (v1 or v2); devices and /dev links
            // are its own defaults, so the spec lists none.
            List<Mount> system = new ArrayList<>(Defaults.systemMounts(false));
            system.add(new Mount("/sys/fs/cgroup", "cgroup", "cgroup",
                    List.of("nosuid", "noexec", "nodev", "relatime", "ro")));
            ContainerSpec spec = spec(id, plan, options, new ContainerSpec.Root.Directory(rootfs, options.readOnly()),
                    system, List.of(), List.of(), List.of());
            spec = new ContainerSpec(spec.id(), spec.hostname(), spec.process(), spec.root(), spec.mounts(), List.of(),
                    List.of(), spec.maskedPaths(), spec.readonlyPaths(), spec.namespaces(), spec.resources(),
                    List.of(), false, false);
            Files.write(abs.resolve("config.json"), OciBundle.config(spec));
            return abs;
        } catch (IOException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        } catch (LayersException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    /** Writes the /etc files into a bundle's rootfs, where no symlink leads them out of it. */
    private static void writeEtcIntoRootfs(Path rootfs, String hostname, NetworkMode network) throws IOException {
        Path etc = rootfs.resolve("etc");
        if (Files.isSymbolicLink(etc)) {
            return;
        }
        Files.createDirectories(etc);
        Path staging = Files.createTempDirectory(rootfs.getParent(), ".etc");
        try {
            writeEtcFiles(staging, hostname, network);
            for (String f : List.of("hosts", "hostname", "resolv.conf")) {
                if (!Files.isSymbolicLink(etc.resolve(f))) {
                    Files.copy(staging.resolve(f), etc.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } finally {
            LayerExtractor.deleteTree(staging);
        }
    }

    // ------------------------------------------------------------------ resolution

    /** Everything resolved from the image and the options, before anything is created. */
    private record Plan(String hostname, ImageUser user, List<String> env, List<String> args, String cwd,
                        String searchPath) {}

    private Plan plan(String what, ContainerImage image, LayeredFs fs, RunOptions o, String id) {
        try {
            Platform host = Platform.host();
            Platform platform = image.platform();
            if (!platform.os().equals("linux") || !platform.architecture().equals(host.architecture())) {
                throw new ContainerException("image " + image.name() + " is for " + platform
                        + ", this machine runs " + host);
            }
            ContainerConfig cc = image.config();
            String hostname = o.hostname().orElseGet(() -> o.network() == NetworkMode.HOST ? hostHostname()
                    : id.substring(0, 12));
            if (hostname.isEmpty() || hostname.length() > 64 || !hostname.matches("[A-Za-z0-9][A-Za-z0-9.-]*")) {
                throw new ContainerException("invalid hostname \"" + hostname + "\"");
            }
            ImageUser user = ImageUser.resolve(o.user().or(() -> cc.user().filter(u -> !u.isBlank())), fs);
            List<String> env = Environment.build(cc.env(), o.envFiles(), o.env(), hostname, user, o.tty(), hostEnv);
            List<String> args = command(image.name(), cc, o);
            String cwd = ContainerPaths.normalize(o.workdir().or(() -> cc.workingDir().filter(w -> !w.isBlank()))
                    .map(w -> w.startsWith("/") ? w : "/" + w).orElse("/"), "working directory");
            String searchPath = Environment.get(env, "PATH").orElse(Defaults.PATH);
            List<String> volumeTargets = o.volumes().stream().map(Volume::container).toList();
            CommandCheck.check(fs, args, cwd, searchPath, user, volumeTargets);
            return new Plan(hostname, user, env, args, cwd, searchPath);
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

    private static boolean hasCgroupNamespaces() {
        return Files.exists(Path.of("/proc/self/ns/cgroup"));
    }

    /** The container: the system mounts, then the /etc files, then the volumes and other mounts, parents first. */
    private ContainerSpec spec(String id, Plan plan, RunOptions o, ContainerSpec.Root root, List<Mount> system,
                               List<Mount> etc, List<Mount> extra, List<Path> cgroupProcs) {
        Set<Namespace> ns = EnumSet.of(Namespace.MOUNT, Namespace.PID, Namespace.UTS, Namespace.IPC);
        if (o.network() == NetworkMode.NONE) {
            ns.add(Namespace.NETWORK);
        }
        if (hasCgroupNamespaces()) {
            ns.add(Namespace.CGROUP);
        }
        List<Mount> mounts = new ArrayList<>(system);
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
        ContainerSpec.ProcessSpec process = new ContainerSpec.ProcessSpec(plan.args, plan.env, plan.cwd,
                plan.user.uid(), plan.user.gid(), plan.user.additionalGids(), Capability.DOCKER_DEFAULT,
                o.noNewPrivileges(),
                Defaults.RLIMITS, o.tty(), o.interactive(), plan.searchPath);
        return new ContainerSpec(id, plan.hostname, process, root, mounts, Defaults.DEVICES, Defaults.symlinks(),
                Defaults.MASKED_PATHS, Defaults.READONLY_PATHS, ns, o.resources(), cgroupProcs, o.init(), o.noPivot());
    }

    private static List<Mount> etcMounts(Path container) {
        List<Mount> out = new ArrayList<>();
        for (String f : List.of("hosts", "hostname", "resolv.conf")) {
            out.add(new Mount("/etc/" + f, "bind", container.resolve(f).toString(), List.of("rbind", "rprivate")));
        }
        return out;
    }

    /** /etc/hosts, /etc/hostname and /etc/resolv.conf for the container, as docker writes them. */
    static void writeEtcFiles(Path dir, String hostname, NetworkMode network) {
        try {
            String hosts;
            if (network == NetworkMode.HOST && Files.isReadable(Path.of("/etc/hosts"))) {
                hosts = Files.readString(Path.of("/etc/hosts"));
                if (!hostname.equals(hostHostname())) { // a name of its own: it must resolve, as in docker
                    hosts = (hosts.isEmpty() || hosts.endsWith("\n") ? hosts : hosts + "\n") + "127.0.1.1\t" + hostname
                            + "\n";
                }
            } else {
                hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                        + "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
                        + "127.0.1.1\t" + hostname + "\n";
            }
            Files.writeString(dir.resolve("hosts"), hosts);
            Files.writeString(dir.resolve("hostname"), hostname + "\n");
            Path resolv = Path.of("/etc/resolv.conf");
            Files.writeString(dir.resolve("resolv.conf"), Files.isReadable(resolv) ? Files.readString(resolv) : "");
        } catch (IOException e) {
            throw new ContainerException("cannot write the container's /etc files in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static Monitor.Streams stdio(RunOptions o) {
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

    private Image resolve(Reference ref, String what) {
        try {
            return images.find(ref).orElseThrow(() -> new ContainerException("image " + ref.familiar()
                    + " is not in the local store: pull it first (berth pull " + ref.familiar() + ")"));
        } catch (ContainerException e) {
            throw new ContainerException(e.exitCode(), what + ": " + e.getMessage());
        } catch (LayersException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    private static Reference reference(String image) {
        try {
            return Reference.parse(image);
        } catch (LayersException e) {
            throw new ContainerException(e.getMessage(), e);
        }
    }

    private static String hostHostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static String newId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void requireRoot() {
        if (!BerthHome.isRoot()) {
            throw new ContainerException("berth run needs root (rootless containers are not supported yet)");
        }
    }

    // ------------------------------------------------------------------ ps, rm, recovery

    /** Containers, newest first: running ones, and with {@code all} the exited ones too. */
    public List<ContainerInfo> list(boolean all) {
        recover();
        List<ContainerInfo> out = new ArrayList<>();
        for (Path dir : containers.containers()) {
            Optional<ContainerState> s = containers.read(dir);
            if (s.isEmpty()) {
                continue; // starting: no state yet
            }
            ContainerInfo info = info(s.get());
            if (all || info.status() == ContainerInfo.Status.RUNNING) {
                out.add(info);
            }
        }
        out.sort(Comparator.comparing(ContainerInfo::created).reversed());
        return out;
    }

    private static ContainerInfo info(ContainerState s) {
        return new ContainerInfo(s.id(), s.name(), s.image(), s.command(), Instant.parse(s.created()), s.status(),
                s.status() == ContainerInfo.Status.RUNNING ? s.pid() : OptionalLong.empty(), s.exitCode(),
                s.oomKilled(), s.finished().map(Instant::parse));
    }

    /**
     * Removes containers by name or id: their upper directory, state and name. A running container is an
     * error unless {@code force}, which kills it first. Returns the names removed.
     */
    public List<String> remove(List<String> namesOrIds, boolean force) {
        requireRoot();
        recover();
        List<String> removed = new ArrayList<>();
        for (String n : namesOrIds) {
            Path dir = containers.find(n).orElseThrow(() -> new ContainerException("no such container: " + n));
            ContainerState s = containers.read(dir).orElseThrow(() -> new ContainerException("container " + n
                    + " is still starting"));
            if (ContainerStore.isRunning(dir)) {
                if (!force) {
                    throw new ContainerException("container " + n + " is running: stop it first, or use berth rm -f");
                }
                kill(s);
                waitUntilStopped(dir, n);
            }
            Optional<ContainerStore.Slot> lock = ContainerStore.tryLock(dir);
            try {
                new Cgroups.ContainerCgroup(s.cgroupVersion(), s.cgroups().stream().map(Path::of).toList()).destroy();
                detachMounts(dir);
                containers.delete(dir, s.name(), s.id());
            } finally {
                lock.ifPresent(ContainerStore.Slot::close);
            }
            removed.add(s.name());
        }
        return removed;
    }

    private static void kill(ContainerState s) {
        try {
            if (s.monitorPid().isPresent()) {
                Linux.kill(s.monitorPid().getAsLong(), Linux.SIGKILL); // its PID 1 and namespace die with it
            }
            new Cgroups.ContainerCgroup(s.cgroupVersion(), s.cgroups().stream().map(Path::of).toList()).pids()
                    .forEach(p -> {
                        try {
                            Linux.kill(p, Linux.SIGKILL);
                        } catch (IOException ignored) {
                            // gone
                        }
                    });
        } catch (IOException e) {
            throw new ContainerException("cannot kill container " + s.name() + ": " + e.getMessage(), e);
        }
    }

    private static void waitUntilStopped(Path dir, String name) {
        for (int i = 0; i < 1000 && ContainerStore.isRunning(dir); i++) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (ContainerStore.isRunning(dir)) {
            throw new ContainerException("container " + name + " did not stop");
        }
    }

    /**
     * Cleans up after berth processes that were killed: their containers' processes, cgroups and mounts
     * (a container's mounts live in its own mount namespace and die with it; any under {@code containers/}
     * on the host are leftovers), their directories when they were {@code --rm}, and interrupted snapshot
     * extractions. Called at the start of every run, ps and rm.
     */
    public void recover() {
        for (Path dir : containers.abandonedSetups()) {
            ContainerStore.tryLock(dir).ifPresent(lock -> {
                try {
                    detachMounts(dir);
                    LayerExtractor.deleteTree(dir);
                } catch (IOException ignored) {
                    // retried next time
                } finally {
                    lock.close();
                }
            });
        }
        for (Path dir : containers.containers()) {
            if (!Files.exists(dir.resolve(ContainerStore.RUNNING), LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            Optional<ContainerStore.Slot> lock = ContainerStore.tryLock(dir);
            if (lock.isEmpty()) {
                continue; // its berth is alive
            }
            try {
                Optional<ContainerState> s = containers.read(dir);
                detachMounts(dir);
                if (s.isEmpty()) {
                    LayerExtractor.deleteTree(dir); // died before it was started
                    continue;
                }
                kill(s.get());
                new Cgroups.ContainerCgroup(s.get().cgroupVersion(), s.get().cgroups().stream().map(Path::of).toList())
                        .destroy();
                if (s.get().autoRemove()) {
                    containers.delete(dir, s.get().name(), s.get().id());
                } else {
                    containers.write(dir, s.get().exited(OptionalInt.empty(), false, Instant.now().toString(),
                            ContainerInfo.Status.DEAD));
                    Files.deleteIfExists(dir.resolve(ContainerStore.RUNNING));
                }
            } catch (IOException e) {
                throw new ContainerException("cannot clean up container " + dir.getFileName() + ": " + e.getMessage(), e);
            } finally {
                lock.get().close();
            }
        }
        // Cgroups whose container directory is gone: berth was killed before it recorded them.
        for (Path parent : cgroups.parents()) {
            if (!Files.isDirectory(parent)) {
                continue;
            }
            try (var children = Files.list(parent)) {
                for (Path child : children.toList()) {
                    String id = child.getFileName().toString();
                    if (id.matches("[0-9a-f]{64}") && Files.isDirectory(child)
                            && !Files.exists(containers.dir().resolve(id), LinkOption.NOFOLLOW_LINKS)) {
                        cgroups.forId(id).destroy();
                    }
                }
            } catch (IOException e) {
                throw new ContainerException("cannot list " + parent + ": " + e.getMessage(), e);
            }
        }
        snapshots.cleanTemp();
        detachMounts(containers.dir());
    }

    /** Detaches every host mount at or under {@code dir}, deepest first. */
    static void detachMounts(Path dir) {
        List<String> points = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ", 6);
                if (f.length < 5) {
                    continue;
                }
                String point = f[4].replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
                        .replace("\\134", "\\");
                if (Path.of(point).startsWith(dir)) {
                    points.add(point);
                }
            }
            points.sort(Comparator.comparingInt(String::length).reversed());
            for (String p : points) {
                Linux.detach(p);
            }
        } catch (IOException e) {
            throw new ContainerException("cannot clean up mounts under " + dir + ": " + e.getMessage(), e);
        }
    }
}

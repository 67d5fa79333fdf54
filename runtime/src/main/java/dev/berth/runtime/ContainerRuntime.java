package dev.berth.runtime;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.internal.HelperBinary;
import dev.berth.runtime.internal.HelperProtocol;
import dev.berth.runtime.internal.Keeper;
import dev.berth.runtime.internal.LayeredFs;
import dev.berth.runtime.internal.Linux;
import dev.berth.runtime.internal.Monitor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

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
        this.containers = new ContainerStore(home.containers(), BerthHome.isRoot() ? Optional.empty()
                : Optional.of(UsernsTasks.forCurrentUser(home)));
        this.cgroups = cgroups;
        this.hostEnv = hostEnv;
    }

    /** The runtime over a berth home, taking images from its store (for this machine's platform). */
    public static ContainerRuntime open(BerthHome home) {
        ImageStore store = home.openStore();
        return new ContainerRuntime(home, ImageResolver.store(store, Platform.host()),
                Cgroups.forThisProcess(Cgroups.group(home.root())), System.getenv());
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
        return launch(what, () -> ContainerImage.of(ref, resolve(ref, what)), options, Optional.empty());
    }

    /**
     * Starts a container of layers that need not be an image of the store (a build's stage), with the user,
     * environment, working directory and command of {@code image}'s config unless {@code options} say
     * otherwise; as {@link #start(String, RunOptions)} in every other way.
     */
    public RunningContainer start(ContainerImage image, RunOptions options) {
        return launch("run " + image.name(), () -> image, options, Optional.empty());
    }

    /**
     * Starts a container that ran before and ended ({@code berth start}): with its image, its upper
     * directory, name and id, and the configuration it was run with ({@link RunConfig}); detached with
     * {@code detach}'s exit command, or else in the foreground on berth's streams (stdin with
     * {@code attachStdin}, if it was run with -i).
     */
    public RunningContainer restart(String nameOrId, Optional<DetachOptions> detach, boolean attachStdin) {
        ContainerRestart r = ContainerRestart.prepare(containers, images, nameOrId, detach, attachStdin);
        return launch(r.what(), r.image(), r.options(), Optional.of(r.state()));
    }

    /** A container's file system, running or not, for {@code diff}, {@code commit} and {@code export}. */
    public ContainerFiles files(String nameOrId, String verb) {
        return ContainerFiles.open(home, containers, images, nameOrId, verb);
    }

    /** {@code berth cp}: files between containers, running or not, and the host. */
    public ContainerCopy copy() {
        return new ContainerCopy(home, containers, images);
    }

    private RunningContainer launch(String what, java.util.function.Supplier<ContainerImage> source,
                                    RunOptions given, Optional<ContainerState> again) {
        Rootless.requireUserNamespaces();
        boolean rootless = !BerthHome.isRoot();
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
        Optional<SharedNetwork> network = SharedNetwork.of(containers, given, what, again.isPresent());
        RunOptions options = network.map(n -> n.apply(given)).orElse(given);
        Optional<Rootless.Namespace> ns = Rootless.namespace(home, options, what);
        Optional<UsernsTasks> tasks = ns.map(Rootless.Namespace::tasks);
        Optional<KeepId.HostUser> keepId = ns.flatMap(Rootless.Namespace::keepId);
        SnapshotStore snaps = keepId.isPresent() ? SnapshotStore.forMaps(home, tasks.orElseThrow(), "keep-id") : snapshots;
        List<Path> lowers = snaps.prepare(image.layers(), image.blobs());
        String id = again.map(ContainerState::id).orElseGet(ContainerRuntime::newId);
        Optional<IdMaps> userns = tasks.map(UsernsTasks::maps);
        LayeredFs fs = userns.map(m -> new LayeredFs(lowers, m::containerUid, m::containerGid))
                .orElseGet(() -> new LayeredFs(lowers));
        RunOptions o = keepId.isPresent() ? KeepId.options(options, keepId.get(), fs) : options;
        ContainerPlan plan = ContainerPlan.resolve(what, image, fs, o, id, hostEnv);
        List<PortMapping> publish = PortMapping.forRun(o, image.config().exposedPorts(), what);
        List<ExtraMounts.Resolved> extra;
        try {
            extra = ExtraMounts.resolve(o.mounts(), snaps);
        } catch (ContainerException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        }
        Path helper = HelperBinary.ensure(home.root().resolve("lib"));
        try {
            recovered.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }

        if (rootless) {
            Rootless.requireLimits(cgroups, o.resources(), what);
        }
        ContainerStore.Slot slot = again.isPresent() ? containers.reopen(containers.dir().resolve(id), id,
                again.get().name()) : containers.create(id, o.name());
        ContainerCgroup cgroup = null;
        Monitor monitor = null;
        try {
            if (network.isPresent()) {
                network.get().copyEtcFiles(slot.path);
            } else {
                EtcFiles.write(slot.path, plan.hostname(), o.network(), o.names());
            }
            List<Mount> etc = new ArrayList<>(EtcFiles.mounts(slot.path));
            if (keepId.isPresent()) { // the root directory and /etc files are the container's root's, not the user's
                List<Mount> users = KeepId.etcFiles(fs, slot.path, keepId.get());
                List<Path> owned = new ArrayList<>(List.of(slot.path.resolve("upper")));
                users.forEach(m -> owned.add(Path.of(m.source())));
                tasks.orElseThrow().chown(owned, 0, 0);
                etc.addAll(users);
            }
            // rootless, a container has a cgroup (in the user's delegated subtree) only for its limits
            cgroup = rootless && o.resources().none() ? ContainerCgroup.NONE
                    : cgroups.create(id, o.resources());
            List<Mount> system = userns.isPresent()
                    ? Defaults.rootlessMounts(o.network().equals(NetworkMode.HOST), userns.get().hostGid(5).isPresent())
                    : Defaults.systemMounts(cgroups instanceof Cgroups.V2 && ContainerPlan.hasCgroupNamespaces());
            ContainerSpec spec = plan.spec(id, o,
                    new ContainerSpec.Root.Overlay(lowers, slot.path.resolve("upper"), slot.path.resolve("work"),
                            slot.path.resolve("rootfs"), o.overlayMode(), o.readOnly()),
                    system, etc, ExtraMounts.mounts(extra, slot.path, snaps.emptyLayer(), rootless),
                    cgroup.procsFiles(), userns);
            // MountPoints compares the upper directory's owners with the image's as the host sees them
            Optional<MountPoints> commit = o.commitTo().map(to -> MountPoints.of(new LayeredFs(lowers),
                    spec.mounts()));
            if (again.isEmpty() && o.mounts().isEmpty() && o.commitTo().isEmpty()) {
                RunConfig.write(slot.path, o, plan, publish, spec.mounts(), image.platform());
            }
            Optional<Keeper> keeper = o.detach().map(d -> Detached.keeper(slot.path, d));
            Path started = slot.path.resolve(ContainerStore.STARTED);
            try {
                Files.deleteIfExists(started); // a restart's: it marks this start only
            } catch (IOException e) {
                throw new ContainerException("cannot remove " + started + ": " + e.getMessage(), e);
            }
            monitor = Monitor.start(helper, HelperProtocol.encode(spec, keeper, publish,
                            network.map(n -> java.util.OptionalLong.of(n.pid())).orElse(java.util.OptionalLong.empty()),
                            Optional.of(started)),
                    keeper.isPresent() ? Detached.STREAMS : ContainerPlan.stdio(o), "berth-" + id.substring(0, 12),
                    keeper.isPresent());
            OptionalLong pid = monitor.containerPid();
            String now = Instant.now().toString();
            ContainerState state = new ContainerState(id, slot.name, image.name(), image.id(),
                    plan.args(), again.map(ContainerState::created).orElse(now), ContainerInfo.Status.RUNNING,
                    OptionalLong.of(monitor.helperPid()), pid, OptionalInt.empty(), false, Optional.empty(),
                    o.remove(), cgroup.version(), cgroup.dirs().stream().map(Path::toString).toList(),
                    keeper.isPresent(), SignalNames.stopSignal(image.config()), plan.keptEnv(),
                    o.user().or(() -> image.config().user().filter(u -> !u.isBlank())).orElse(""), plan.cwd(),
                    monitor.ports().stream().map(PortMapping::reported).toList(), now);
            containers.write(slot.path, state);
            RunningContainer c = new RunningContainer(this, what, slot, state, monitor, cgroup,
                    commit.map(m -> new UpperCommit(m, o.commitTo().orElseThrow())));
            if (keeper.isPresent() && monitor.detach()) {
                slot.close(); // the monitor holds the keeper lock from here on
            }
            return c;
        } catch (RuntimeException e) {
            if (monitor != null) { // started, then recording it failed: it must not run unrecorded
                monitor.signal(Linux.SIGKILL);
                monitor.await();
            }
            if (cgroup != null) {
                cgroup.destroy();
            }
            if (again.isPresent()) { // it stays as it was: ended
                containers.write(slot.path, again.get());
                try {
                    Files.deleteIfExists(slot.path.resolve(ContainerStore.RUNNING));
                } catch (IOException ignored) {
                    // recover() takes it as a killed berth's
                }
            } else {
                containers.delete(slot.path, slot.name, id);
            }
            slot.close();
            throw e instanceof ContainerException c ? c : new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    /** Called by {@link RunningContainer} when its container has exited. */
    RunResult finish(RunningContainer c, Monitor.Outcome outcome) {
        boolean oom = c.cgroup.oomKills() > 0;
        c.cgroup.destroy();
        int code = outcome.dockerCode();
        try {
            if (c.commit.isPresent() && outcome.error().isEmpty()) {
                c.commit.get().apply(c.slot, home);
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
        if (options.keepId()) {
            throw new ContainerException(what + ": --userns=keep-id is not available in a bundle");
        }
        return OciBundle.write(what, ref, resolve(ref, what), dir, options, newId(), hostEnv);
    }

    // ------------------------------------------------------------------ resolution

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

    static Reference reference(String image) {
        try {
            return Reference.parse(image);
        } catch (LayersException e) {
            throw new ContainerException(e.getMessage(), e);
        }
    }

    private static String newId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    // ------------------------------------------------------------------ ps, rm, recovery

    /** Containers, newest first: running ones, and with {@code all} the exited ones too. */
    public List<ContainerInfo> list(boolean all) {
        return lifecycle().list(all);
    }

    /**
     * Removes containers by name or id: their upper directory, state and name. A running container is an
     * error unless {@code force}, which kills it first. Returns the names removed.
     */
    public List<String> remove(List<String> namesOrIds, boolean force) {
        Rootless.requireUserNamespaces();
        return lifecycle().remove(namesOrIds, force);
    }

    /**
     * Cleans up after berth processes that were killed: their containers' processes, cgroups and mounts,
     * their directories when they were {@code --rm}, and interrupted snapshot extractions. Called at the
     * start of every run, ps and rm.
     */
    public void recover() {
        lifecycle().recover();
    }

    private ContainerCleanup lifecycle() {
        return new ContainerCleanup(containers, cgroups, snapshots);
    }

    /**
     * Control of containers, whichever berth started them: kill, stop, wait, logs, ports, pause, inspect
     * (see {@link ContainerControl}).
     */
    public ContainerControl control() {
        return new ContainerControl(containers, lifecycle(), home.root().resolve("lib"));
    }

    /** Starts {@code berth exec}'s command in a running container (see {@link ContainerExec}). */
    public RunningExec exec(String nameOrId, ExecOptions options) {
        return ContainerExec.start(containers, home.root().resolve("lib"), nameOrId, options, hostEnv,
                BerthHome.isRoot() ? Optional.empty() : Optional.of(UsernsTasks.forCurrentUser(home).maps()));
    }

    /** Detaches every host mount at or under {@code dir}, deepest first. */
    static void detachMounts(Path dir) {
        ContainerCleanup.detachMounts(dir);
    }
}

package dev.berth.builder;

import dev.berth.builder.dockerfile.ImageSource;
import dev.berth.builder.dockerfile.Location;
import dev.berth.layers.Digest;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.Posix;
import dev.berth.layers.TempDirs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The host side of a RUN's {@code --mount}s: what each contributes to the step's cache key, and, when the
 * step runs, what it mounts and holds (cache locks, secret files, agent proxies) until {@link #close}.
 *
 * <p>Cache keys take every mount's type, target and options, and the content of what a bind mount shows
 * (its files from the context, or the layers of its stage or image); never the content of a cache
 * directory, a secret or an agent. Secrets are written to a tmpfs ({@code /dev/shm}) for the step only:
 * their bytes reach no file of berth's home.
 */
final class StepMounts implements AutoCloseable {
    private static final String SECRETS = "berth-secrets-";

    private final BuildRun run;
    private final StageState stage;
    private final Location at;
    private final List<RunMount> mounts;
    private final List<StepRunner.Mount> out = new ArrayList<>();
    private final List<String> env = new ArrayList<>();
    private final List<AutoCloseable> held = new ArrayList<>();
    private final java.util.Set<Path> locked = new java.util.HashSet<>();
    private Path secretsDir;

    StepMounts(BuildRun run, StageState stage, Location at, List<RunMount> mounts) {
        this.run = run;
        this.stage = stage;
        this.at = at;
        this.mounts = List.copyOf(mounts);
    }

    /** Removes the secrets and agent sockets of builds that were killed before they could. */
    static void sweep() {
        secretsParent().ifPresent(dir -> TempDirs.removeAbandoned(dir, SECRETS));
        AgentProxy.sweep();
    }

    /**
     * Where secrets are written: a tmpfs, so their bytes never reach a disk: {@code /dev/shm}, else the
     * user's runtime directory ({@code $XDG_RUNTIME_DIR}, a tmpfs on systemd machines).
     */
    private static Optional<Path> secretsParent() {
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/dev/shm")));
        Optional.ofNullable(System.getenv("XDG_RUNTIME_DIR")).filter(d -> !d.isBlank()).map(Path::of)
                .ifPresent(candidates::add);
        return candidates.stream().filter(d -> Files.isDirectory(d) && Files.isWritable(d)).findFirst();
    }

    /** The context files the bind mounts show (for the cache's no-change check), in order. */
    List<ContextDir.Item> contextItems() {
        List<ContextDir.Item> items = new ArrayList<>();
        for (RunMount m : mounts) {
            if (m instanceof RunMount.Bind b && b.from().isEmpty()) {
                String rel = contextPath(b);
                Optional<ContextDir.Stat> st = run.context().lstat(rel);
                st.ifPresent(s -> items.add(new ContextDir.Item(rel, s)));
                if (st.map(ContextDir.Stat::isDirectory).orElse(false)) {
                    items.addAll(run.context().walk(rel));
                }
            }
        }
        return items;
    }

    /** The mounts' part of the cache key, without the content of context files (see {@link #contentKey}). */
    List<String> keyParts() {
        List<String> parts = new ArrayList<>();
        for (RunMount m : mounts) {
            parts.add(switch (m) {
                case RunMount.Bind b -> "bind " + b.target() + " rw=" + b.writable() + " source=" + b.source()
                        + " from=" + b.from().map(f -> sourceKey(f)).orElse("context");
                case RunMount.Cache c -> "cache " + c.target() + " id=" + c.id() + " sharing=" + c.sharing() + " from="
                        + c.from().orElse("") + " source=" + c.source() + " mode=" + Integer.toOctalString(c.mode())
                        + " owner=" + c.uid() + ":" + c.gid() + " ro=" + c.readOnly();
                case RunMount.Tmpfs t -> "tmpfs " + t.target() + " size=" + t.size();
                case RunMount.Secret s -> "secret " + s.id() + " target=" + s.target() + " env=" + s.env().orElse("")
                        + " required=" + s.required() + " mode=" + Integer.toOctalString(s.mode()) + " owner=" + s.uid()
                        + ":" + s.gid();
                case RunMount.Ssh s -> "ssh " + s.id() + " target=" + s.target() + " required=" + s.required()
                        + " mode=" + Integer.toOctalString(s.mode()) + " owner=" + s.uid() + ":" + s.gid();
            });
        }
        return parts;
    }

    /** The content of the context files the bind mounts show: paths, types, modes, bytes, link targets. */
    String contentKey(List<ContextDir.Item> items) {
        try {
            return run.context().contentDigest(items);
        } catch (IOException e) {
            throw at.error("RUN --mount=type=bind: cannot read " + e.getMessage());
        }
    }

    /** Prepares every mount for the step (creating cache directories, writing secrets, starting proxies). */
    void prepare() {
        int n = 0;
        for (RunMount m : mounts) {
            switch (m) {
                case RunMount.Bind b -> out.add(bind(b));
                case RunMount.Cache c -> out.add(new StepRunner.Mount.Bind(c.target(), cacheDir(c), c.readOnly()));
                case RunMount.Tmpfs t -> out.add(new StepRunner.Mount.Tmpfs(t.target(), t.size()));
                case RunMount.Secret s -> secret(s, n++);
                case RunMount.Ssh s -> ssh(s);
            }
        }
    }

    /** The mounts, once {@link #prepare}d. */
    List<StepRunner.Mount> mounts() {
        return List.copyOf(out);
    }

    /** Variables the mounts add ({@code env=} secrets, {@code SSH_AUTH_SOCK}), {@code NAME=value}. */
    List<String> environment() {
        return List.copyOf(env);
    }

    // ---------------------------------------------------------------- bind

    private String contextPath(RunMount.Bind b) {
        return run.context().resolve(ContextDir.clean(b.source()), true);
    }

    private String sourceKey(String from) {
        return switch (run.stages().source(from, at)) {
            case ImageSource.FromStage(int index) -> "stage " + BuildCache.chainKey(run.stageResult(index, at).diffIds());
            case ImageSource.External(String name) -> "image " + name + " "
                    + BuildCache.chainKey(run.image(name, stage, at).image().diffIds());
            case ImageSource.Scratch s -> "scratch";
        };
    }

    private List<ImageFs.Layer> layersOf(String from) {
        return switch (run.stages().source(from, at)) {
            case ImageSource.FromStage(int index) -> {
                List<ImageFs.Layer> layers = run.stageResult(index, at).fs.layers();
                run.caches().materialize(layers); // a stage of cached layers: the mount needs their bytes
                yield layers;
            }
            case ImageSource.External(String name) -> run.image(name, stage, at).layers();
            case ImageSource.Scratch s -> List.of();
        };
    }

    private StepRunner.Mount bind(RunMount.Bind b) {
        if (b.from().isPresent()) {
            return new StepRunner.Mount.Layers(b.target(), RunStep.layers(layersOf(b.from().get())),
                    run.store().blobs("layer"), b.source(), b.writable());
        }
        String rel = contextPath(b);
        Optional<ContextDir.Stat> st = run.context().lstat(rel);
        if (st.isEmpty() || run.context().excluded(rel)) {
            throw at.error("RUN --mount=type=bind: source \"" + b.source() + "\" not found in build context");
        }
        Path file = run.context().file(rel);
        if (st.get().isDirectory()) {
            return new StepRunner.Mount.Directory(b.target(), file, run.context().excludedBelow(rel), b.writable());
        }
        if (b.writable()) { // a file bound writable would be written in the context itself: bind a copy
            Path copy = run.scratch().resolve("bind-" + System.nanoTime());
            try {
                Files.copy(file, copy, StandardCopyOption.COPY_ATTRIBUTES);
            } catch (IOException e) {
                throw at.error("RUN --mount=type=bind: cannot copy " + file + ": " + e.getMessage());
            }
            file = copy;
        }
        return new StepRunner.Mount.Bind(b.target(), file, !b.writable());
    }

    // ---------------------------------------------------------------- cache

    /**
     * The directory of a cache mount under {@code cache/mounts/}, made on first use (with its mode and
     * owner, seeded from {@code from} when given) and locked as its sharing says: shared mounts take a
     * shared lock, locked ones an exclusive lock (waiting for the others), private ones the first instance
     * no other step holds.
     */
    private Path cacheDir(RunMount.Cache c) {
        String name = BuildCache.sha256("cache-mount " + c.id()).substring(0, 32);
        try {
            Files.createDirectories(run.mountCaches());
            for (int i = 0; ; i++) {
                Path instance = run.mountCaches().resolve(i == 0 ? name : name + "-" + i);
                Files.createDirectories(instance);
                Path lockFile = instance.resolve("lock");
                if (c.sharing() != RunMount.Sharing.PRIVATE && locked.contains(lockFile)) {
                    return instance.resolve("data"); // this step holds it already (one id, two targets)
                }
                Optional<AutoCloseable> lock = switch (c.sharing()) {
                    case SHARED -> Optional.of(CacheLocks.acquire(lockFile, false));
                    case LOCKED -> Optional.of(CacheLocks.acquire(lockFile, true));
                    case PRIVATE -> CacheLocks.tryAcquire(lockFile, true);
                };
                if (lock.isEmpty()) {
                    continue; // a private mount takes the first instance no one holds
                }
                held.add(lock.get());
                locked.add(lockFile);
                Path data = instance.resolve("data");
                if (!Files.isDirectory(data, LinkOption.NOFOLLOW_LINKS)) {
                    Path fresh = Files.createTempDirectory(instance, "new-");
                    if (c.from().isPresent()) {
                        ImageFs.of(run.store(), layersOf(c.from().get())).extractTo(ContextDir.clean(c.source()), fresh);
                    }
                    Posix.chmod(fresh, c.mode());
                    run.steps().own(fresh, c.uid(), c.gid());
                    Files.move(fresh, data, StandardCopyOption.ATOMIC_MOVE);
                }
                return data;
            }
        } catch (IOException e) {
            throw at.error("RUN --mount=type=cache,id=" + c.id() + ": " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- secrets and agents

    private void secret(RunMount.Secret s, int index) {
        BuildRequest.Secret given = run.request().secrets().get(s.id());
        if (given == null) {
            if (s.required()) {
                throw at.error("RUN --mount=type=secret: secret " + s.id() + " is required but was not given "
                        + "(berth build --secret id=" + s.id() + ",src=FILE)");
            }
            return; // an optional secret that is not there is not mounted, as in docker
        }
        byte[] bytes;
        try {
            bytes = switch (given) {
                case BuildRequest.Secret.FromFile f -> Files.readAllBytes(f.file());
                case BuildRequest.Secret.Value v -> v.bytes();
            };
        } catch (IOException e) {
            throw at.error("secret " + s.id() + ": cannot read " + ((BuildRequest.Secret.FromFile) given).file()
                    + ": " + e.getMessage());
        }
        if (s.env().isPresent()) {
            if (indexOf(bytes, (byte) 0) >= 0) { // a variable cannot hold it (and the message must not show it)
                throw at.error("secret " + s.id() + " holds a NUL byte and cannot be the variable " + s.env().get()
                        + "; mount it as a file instead");
            }
            env.add(s.env().get() + "=" + new String(bytes, StandardCharsets.UTF_8));
        }
        if (s.target().isEmpty()) {
            return;
        }
        try {
            if (secretsDir == null) {
                Path parent = secretsParent().orElseThrow(() -> at.error("secret " + s.id() + ": berth writes "
                        + "secrets only to a tmpfs, and neither /dev/shm nor $XDG_RUNTIME_DIR is a writable directory"));
                secretsDir = TempDirs.create(parent, SECRETS);
                Posix.chmod(secretsDir, 0700);
            }
            Path file = secretsDir.resolve(Integer.toString(index));
            Files.write(file, bytes);
            Posix.chmod(file, s.mode());
            run.steps().own(file, s.uid(), s.gid());
            out.add(new StepRunner.Mount.Bind(s.target(), file, true));
        } catch (IOException e) {
            throw at.error("secret " + s.id() + ": " + e.getMessage());
        }
    }

    private void ssh(RunMount.Ssh s) {
        Path agent = run.request().sshAgents().get(s.id());
        if (agent == null) {
            if (s.required()) {
                throw at.error("RUN --mount=type=ssh: no SSH agent " + s.id() + " was given (berth build --ssh "
                        + s.id() + "[=SOCKET])");
            }
            return;
        }
        try {
            AgentProxy proxy = AgentProxy.start(agent, s.mode(), (socket) -> run.steps().own(socket, s.uid(), s.gid()));
            held.add(proxy);
            out.add(new StepRunner.Mount.Bind(s.target(), proxy.socket(), false));
            if (env.stream().noneMatch(e -> e.startsWith("SSH_AUTH_SOCK="))) {
                env.add("SSH_AUTH_SOCK=" + s.target());
            }
        } catch (IOException e) {
            throw at.error("RUN --mount=type=ssh,id=" + s.id() + ": " + e.getMessage());
        }
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** Releases the cache locks, stops the agent proxies and deletes the secrets' files. */
    @Override
    public void close() {
        for (AutoCloseable c : held) {
            try {
                c.close();
            } catch (Exception ignored) {
                // released by the kernel when berth exits in any case
            }
        }
        held.clear();
        if (secretsDir != null) {
            try {
                LayerExtractor.deleteTree(secretsDir);
            } catch (IOException ignored) {
                // swept by the next build
            }
            secretsDir = null;
        }
    }
}

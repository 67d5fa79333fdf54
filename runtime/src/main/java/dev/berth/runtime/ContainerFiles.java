package dev.berth.runtime;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Compression;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.MediaType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A container's file system for {@code berth diff}, {@code commit} and {@code export}: its image, the
 * snapshots below its upper directory and the mount destinations whose stubs are not its changes
 * ({@link ContainerChanges}). Rootless, the work runs in the user's namespace (the container's own, for
 * {@code --userns=keep-id}), where the sub-ids that own its files can be read.
 */
public final class ContainerFiles {
    private final BerthHome home;
    private final ContainerState state;
    private final Path dir;
    private final Image image;
    private final List<Path> lowers;
    private final List<String> mountDestinations;
    private final Optional<UsernsTasks> tasks;

    private ContainerFiles(BerthHome home, ContainerState state, Path dir, Image image, List<Path> lowers,
                           List<String> mountDestinations, Optional<UsernsTasks> tasks) {
        this.home = home;
        this.state = state;
        this.dir = dir;
        this.image = image;
        this.lowers = lowers;
        this.mountDestinations = mountDestinations;
        this.tasks = tasks;
    }

    static ContainerFiles open(BerthHome home, ContainerStore containers, ImageResolver images, String n, String verb) {
        ContainerRestart r = ContainerRestart.prepare(containers, images, n, Optional.empty(), false, true);
        String what = verb + " " + r.state().name();
        Path dir = containers.dir().resolve(r.state().id());
        Map<?, ?> run = RunConfig.read(dir, what).orElseThrow(); // prepare checked that it has one
        List<String> destinations = run.get("mountPoints") instanceof List<?> l
                ? l.stream().map(String.class::cast).toList() : List.of();
        Optional<Rootless.Namespace> ns = Rootless.namespace(home, r.options(), what);
        Optional<UsernsTasks> tasks = ns.map(Rootless.Namespace::tasks);
        SnapshotStore snaps = ns.flatMap(Rootless.Namespace::keepId).isPresent()
                ? SnapshotStore.forMaps(home, tasks.orElseThrow(), "keep-id") : SnapshotStore.of(home);
        Image image = ContainerRestart.image(images, r.state(), what);
        return new ContainerFiles(home, r.state(), dir, image, snaps.prepare(image), destinations, tasks);
    }

    public String name() {
        return state.name();
    }

    /** The image the container runs. */
    public Image image() {
        return image;
    }

    /**
     * The container's configuration as an image's ({@code commit}): the image's, with the container's
     * environment (without the host name the runtime sets), user, working directory and command (as
     * ENTRYPOINT and CMD again: the image's ENTRYPOINT when the command starts with it).
     */
    public ContainerConfig config() {
        ContainerConfig base = image.config().value().containerConfig();
        ContainerConfig.Builder b = base.toBuilder();
        b.env = state.env().stream().filter(e -> !e.startsWith("HOSTNAME=")).toList();
        b.user = state.user().isEmpty() ? Optional.empty() : Optional.of(state.user());
        b.workingDir = Optional.of(state.workdir());
        List<String> entrypoint = base.entrypoint().orElse(List.of());
        List<String> args = state.command();
        if (!entrypoint.isEmpty() && args.size() >= entrypoint.size()
                && args.subList(0, entrypoint.size()).equals(entrypoint)) {
            b.cmd = Optional.of(args.subList(entrypoint.size(), args.size()));
        } else {
            b.entrypoint = Optional.empty();
            b.cmd = Optional.of(args);
        }
        return b.build();
    }

    /** {@code docker diff}'s lines: {@code A}, {@code C} or {@code D} and a path, sorted by path. */
    public List<String> diff() {
        Path upper = dir.resolve("upper");
        if (tasks.isPresent()) {
            List<String> args = new ArrayList<>(List.of(upper.toString(), Integer.toString(lowers.size())));
            lowers.forEach(l -> args.add(l.toString()));
            args.addAll(mountDestinations);
            return tasks.get().java("diff " + state.name(), "diff", args).lines().toList();
        }
        try {
            return ContainerChanges.diff(upper, lowers, mountDestinations);
        } catch (IOException e) {
            throw new ContainerException("diff " + state.name() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The container's changes as a layer in {@code store} (a running container is paused meanwhile when
     * it can be, as docker commit does).
     */
    public UsernsTasks.Layer layer(ImageStore store, Compression compression, Instant time) {
        Path upper = dir.resolve("upper");
        ContainerCgroup cg = state.cgroup();
        boolean pause = ContainerStore.isRunning(dir) && !cg.frozen() && !cg.version().equals("none");
        if (pause) {
            cg.freeze(true, "container " + state.name());
        }
        try {
            if (tasks.isPresent()) {
                List<String> args = new ArrayList<>(List.of(home.root().toString(), upper.toString(), compression.spec(),
                        Long.toString(time.getEpochSecond()), Integer.toString(lowers.size())));
                lowers.forEach(l -> args.add(l.toString()));
                args.addAll(mountDestinations);
                List<String> out = tasks.get().java("commit " + state.name(), "commit", args).lines().toList();
                String[] f = out.getFirst().split(" ");
                return new UsernsTasks.Layer(Descriptor.of(MediaType.of(f[0]), Digest.parse(f[1]), Long.parseLong(f[2])),
                        Digest.parse(f[3]), out.subList(1, out.size()));
            }
            List<String> warnings = new ArrayList<>();
            LayerWriter.Result r = ContainerChanges.writeLayer(upper, lowers, mountDestinations, store, compression,
                    time, warnings::add);
            return new UsernsTasks.Layer(r.blob(), r.diffId(), warnings);
        } catch (IOException e) {
            throw new ContainerException("commit " + state.name() + ": " + e.getMessage(), e);
        } finally {
            if (pause) {
                cg.freeze(false, "container " + state.name());
            }
        }
    }

    /** The container's whole file system as a tar on {@code out} ({@code export}). */
    public void export(OutputStream out) {
        Path upper = dir.resolve("upper");
        try {
            if (tasks.isPresent()) { // the worker writes a file this user owns; it is streamed from there
                Path tar = dev.berth.layers.TempDirs.createFile(home.tmp(), "export-", ".tar");
                try {
                    List<String> args = new ArrayList<>(List.of(home.root().toString(),
                            ContainerRuntime.reference(state.image()).name() + "@" + image.digest(), upper.toString(),
                            home.tmp().toString(), tar.toString()));
                    args.addAll(mountDestinations);
                    tasks.get().java("export " + state.name(), "export", args);
                    try (InputStream in = Files.newInputStream(tar)) {
                        in.transferTo(out);
                    }
                } finally {
                    Files.deleteIfExists(tar);
                }
                return;
            }
            Files.createDirectories(home.tmp());
            ContainerChanges.export(image, upper, mountDestinations, home.tmp(), out);
        } catch (IOException e) {
            throw new ContainerException("export " + state.name() + ": " + e.getMessage(), e);
        }
    }
}

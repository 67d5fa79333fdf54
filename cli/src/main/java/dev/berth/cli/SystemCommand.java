package dev.berth.cli;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayersException;
import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerInfo;
import dev.berth.runtime.ContainerRuntime;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth system df} and {@code berth system prune}: what berth's home holds, and freeing it. */
@Command(name = "system", description = "What berth's home holds (df), and freeing it (prune).",
        subcommands = {SystemCommand.Df.class, SystemCommand.Prune.class})
final class SystemCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "system needs a command: df or prune");
    }

    /**
     * {@code docker system df}'s table: images (the store's distinct blobs; reclaimable: those no container's
     * image uses), containers (their upper directories; reclaimable: the stopped ones'), snapshots (extracted
     * layers; reclaimable: those no image in the store has) and the build cache (all reclaimable).
     */
    @Command(name = "df", description = "Show the disk space of images, containers, snapshots and the build cache.")
    static final class Df implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            ContainerRuntime rt = ContainerVerbs.runtime();
            List<ContainerInfo> containers = rt.list(true);
            Set<String> usedImages = new HashSet<>();
            for (ContainerInfo c : containers) {
                rt.control().inspect(c.id()).ifPresent(m -> usedImages.add((String) m.get("Image")));
            }
            Map<String, Long> blobs = new HashMap<>();
            Map<String, Long> activeBlobs = new HashMap<>();
            Set<String> diffIds = new HashSet<>();
            int images = 0;
            int activeImages = 0;
            try (ImageStore store = Stores.open()) {
                for (Stores.Entry e : Stores.entries(store)) {
                    Image image;
                    try {
                        image = Stores.image(store, e);
                    } catch (LayersException broken) {
                        continue; // berth images shows it as unreadable
                    }
                    images++;
                    boolean active = usedImages.contains(image.digest().toString());
                    activeImages += active ? 1 : 0;
                    List<Descriptor> all = new ArrayList<>(image.layers());
                    all.add(image.config().descriptor());
                    all.add(image.descriptor());
                    for (Descriptor d : all) {
                        blobs.put(d.digest().toString(), d.size());
                        if (active) {
                            activeBlobs.put(d.digest().toString(), d.size());
                        }
                    }
                    image.diffIds().forEach(d -> diffIds.add(d.hex()));
                }
            }
            long imageSize = blobs.values().stream().mapToLong(Long::longValue).sum();
            long activeSize = activeBlobs.values().stream().mapToLong(Long::longValue).sum();
            long containerSize = 0;
            long stoppedSize = 0;
            int running = 0;
            Path containersDir = Stores.home().containers();
            for (ContainerInfo c : containers) {
                long size = du(containersDir.resolve(c.id()).resolve("upper"));
                containerSize += size;
                if (c.status() == ContainerInfo.Status.RUNNING) {
                    running++;
                } else {
                    stoppedSize += size;
                }
            }
            long snapshots = 0;
            long unusedSnapshots = 0;
            int snapshotCount = 0;
            int usedSnapshots = 0;
            try (var dirs = Files.exists(Stores.home().snapshots()) ? Files.list(Stores.home().snapshots())
                    : java.util.stream.Stream.<Path>empty()) {
                for (Path d : dirs.filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}")).toList()) {
                    long size = du(d);
                    snapshotCount++;
                    snapshots += size;
                    if (diffIds.contains(d.getFileName().toString())) {
                        usedSnapshots++;
                    } else {
                        unusedSnapshots += size;
                    }
                }
            } catch (IOException e) {
                throw new LayersException("cannot list " + Stores.home().snapshots() + ": " + e.getMessage(), e);
            }
            long cache = du(Stores.home().cache());
            List<String[]> table = new ArrayList<>();
            table.add(new String[] {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"});
            table.add(row("Images", images, activeImages, imageSize, imageSize - activeSize));
            table.add(row("Containers", containers.size(), running, containerSize, stoppedSize));
            table.add(row("Snapshots", snapshotCount, usedSnapshots, snapshots, unusedSnapshots));
            table.add(new String[] {"Build Cache", "", "", Format.size(cache), Format.size(cache)});
            PrintWriter out = spec.commandLine().getOut();
            out.print(Format.table(table));
            out.flush();
        }

        private static String[] row(String type, int total, int active, long size, long reclaimable) {
            return new String[] {type, Integer.toString(total), Integer.toString(active), Format.size(size),
                Format.size(reclaimable) + " (" + (size == 0 ? 0 : Math.round(reclaimable * 100.0 / size)) + "%)"};
        }
    }

    /**
     * {@code docker system prune}: stopped containers, then the blobs no image references, then the build
     * cache. Asks first on a terminal; elsewhere it needs {@code -f}.
     */
    @Command(name = "prune", description = "Remove stopped containers, unreferenced blobs and the build cache.")
    static final class Prune implements Runnable {
        @Option(names = {"-f", "--force"}, description = "Do not ask.")
        boolean force;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            if (!force) {
                java.io.Console console = System.console();
                if (console == null) {
                    throw new LayersException("system prune removes every stopped container and the build cache: "
                            + "give -f to do it without a terminal to ask on");
                }
                String answer = console.readLine("This removes every stopped container, the blobs no image "
                        + "references and the build cache. Continue? [y/N] ");
                if (answer == null || !answer.strip().toLowerCase(Locale.ROOT).startsWith("y")) {
                    return;
                }
            }
            ContainerRuntime rt = ContainerVerbs.runtime();
            List<String> stopped = rt.list(true).stream().filter(c -> c.status() != ContainerInfo.Status.RUNNING)
                    .map(ContainerInfo::id).toList();
            try {
                List<String> removed = rt.remove(stopped, false);
                out.println("Deleted " + removed.size() + " container" + (removed.size() == 1 ? "" : "s"));
            } catch (ContainerException e) {
                throw new ContainerFailure(e);
            }
            PruneCommand.buildCache(out, spec.commandLine().getErr());
            PruneCommand.blobs(out);
            out.flush();
        }
    }

    /** The bytes of the regular files under {@code dir}; what cannot be read counts as nothing. */
    static long du(Path dir) {
        try {
            return dev.berth.layers.DiskTree.usage(dir).bytes();
        } catch (IOException e) {
            return 0; // unreadable: berth ps and info tell more
        }
    }
}

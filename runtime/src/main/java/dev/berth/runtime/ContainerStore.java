package dev.berth.runtime;

import dev.berth.layers.LayerExtractor;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The {@code containers/} directory: one directory per container ({@code upper/}, {@code work/},
 * {@code rootfs/}, the /etc files, {@code state.json}) and {@code .names/<name>} files holding ids.
 *
 * <p>Liveness without a daemon: the berth process that runs a container holds an exclusive lock on its
 * {@code lock} file, and a {@code running} marker exists while it runs. A marker whose lock is free
 * belongs to a berth that was killed (the kernel released its lock): that container is stale and cleaned
 * up by the next berth. A directory is created as {@code .new-<id>}, locked, then renamed, so no other
 * process ever sees an unlocked container directory that is still being set up.
 */
final class ContainerStore {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    private static final String NAMES = ".names";
    static final String STATE = "state.json";
    static final String RUNNING = "running";
    /** Made by the helper's monitor once the container's command runs (see {@link ContainerExec}). */
    static final String STARTED = "started";
    static final String LOCK = "lock";

    private final Path dir;
    /** Rootless: the user's namespace, where the sub-ids that own an upper directory's files can remove them. */
    private final Optional<UsernsTasks> userns;

    ContainerStore(Path dir, Optional<UsernsTasks> userns) {
        this.dir = dir.toAbsolutePath().normalize();
        this.userns = userns;
    }

    Path dir() {
        return dir;
    }

    /** A container directory being set up or running: its path, held lock and reserved name. */
    static final class Slot implements AutoCloseable {
        final Path path;
        final String id;
        final String name;
        private final FileChannel lockChannel;
        private final FileLock lock;
        /** The keeper lock too, when this is a claim on a container (see {@link #tryLock}). */
        private final FileChannel keeperChannel;

        private Slot(Path path, String id, String name, FileChannel lockChannel, FileLock lock,
                     FileChannel keeperChannel) {
            this.path = path;
            this.id = id;
            this.name = name;
            this.lockChannel = lockChannel;
            this.lock = lock;
            this.keeperChannel = keeperChannel;
        }

        /** Releases the keeper lock only (the helper's monitor takes it). */
        private void keeperRelease() {
            closeQuietly(keeperChannel);
        }

        /** Releases the lock (the container is no longer running). */
        @Override
        public void close() {
            try {
                lock.release();
                lockChannel.close();
            } catch (IOException ignored) {
                // closing releases the lock in any case
            }
            closeQuietly(keeperChannel);
        }
    }

    /** Creates, locks and names a container directory with {@code upper}, {@code work} and {@code rootfs}. */
    Slot create(String id, Optional<String> wantedName) {
        String name = wantedName.orElse(id.substring(0, 12));
        if (!NAME.matcher(name).matches()) {
            throw new ContainerException("invalid container name \"" + name + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                    + "are allowed");
        }
        reserveName(name, id);
        Path fresh = dir.resolve(".new-" + id);
        Path path = dir.resolve(id);
        FileChannel ch = null;
        try {
            Files.createDirectories(fresh);
            ch = FileChannel.open(fresh.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.lock();
            Files.createFile(fresh.resolve(RUNNING));
            for (String d : List.of("upper", "work", "rootfs")) {
                Files.createDirectory(fresh.resolve(d));
            }
            Files.move(fresh, path, StandardCopyOption.ATOMIC_MOVE);
            // the real path: the helper compares it with what the kernel reports for open directories
            return new Slot(path.toRealPath(), id, name, ch, lock, null);
        } catch (IOException | RuntimeException e) {
            try {
                if (ch != null) {
                    ch.close();
                }
                LayerExtractor.deleteTree(fresh);
            } catch (IOException ignored) {
                // recover() removes it later
            }
            releaseName(name, id);
            throw new ContainerException("cannot create the container's directory in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Locks an existing container that is not running, to run it again ({@code berth start}): its marker
     * is created again, its last exit record removed; its name, upper directory and state stay.
     */
    Slot reopen(Path container, String id, String name) {
        return lockEnded(container, id, name, "cannot start container " + name + " again", true);
    }

    /**
     * Locks a container that is not running, to mount its files for a moment ({@code berth cp}): nobody can
     * start it meanwhile, and its work directory is ready for another mount.
     */
    Slot holdStopped(Path container, String id, String name) {
        return lockEnded(container, id, name, "cannot mount the files of container " + name, false);
    }

    /** The locks of a container that ended, its work directory emptied; with {@code run}, marked running. */
    private Slot lockEnded(Path container, String id, String name, String what, boolean run) {
        Slot held = tryLock(container).orElseThrow(() -> new ContainerException(1, "container " + name
                + " is running"));
        try {
            if (Files.exists(container.resolve(RUNNING))) { // a berth was killed while it ran: recover() first
                throw new ContainerException(1, "container " + name + " was left running by a berth that was killed: "
                        + "run berth ps first");
            }
            if (run) {
                Files.deleteIfExists(container.resolve(Detached.EXIT));
            }
            resetWork(container);
            if (run) {
                Files.createFile(container.resolve(RUNNING));
            }
            Files.createDirectories(container.resolve("rootfs"));
            held.keeperRelease();
            return new Slot(container.toRealPath(), id, name, held.lockChannel, held.lock, null);
        } catch (IOException | RuntimeException e) {
            held.close();
            throw e instanceof ContainerException c ? c : new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    /**
     * Empties the work directory of a container that ended: overlay's work directory holds the volatile
     * mount's marker, which refuses a second mount; the upper directory of an ended container is complete.
     */
    private void resetWork(Path container) throws IOException {
        deleteTree(container.resolve("work"));
        Files.createDirectory(container.resolve("work"));
    }

    private void reserveName(String name, String id) {
        Path file = dir.resolve(NAMES).resolve(name);
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                Files.createDirectories(file.getParent());
                Files.writeString(file, id, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                return;
            } catch (FileAlreadyExistsException taken) {
                String owner = readName(file).orElse("");
                if (!owner.isEmpty() && Files.isDirectory(dir.resolve(owner))) {
                    throw new ContainerException("the container name \"" + name + "\" is already in use by container "
                            + owner.substring(0, Math.min(12, owner.length())) + ": remove it with berth rm " + name);
                }
                try {
                    Files.deleteIfExists(file); // its container is gone: a leftover of a crash
                } catch (IOException e) {
                    throw new ContainerException("cannot reserve the container name " + name + ": " + e.getMessage(), e);
                }
            } catch (IOException e) {
                throw new ContainerException("cannot reserve the container name " + name + ": " + e.getMessage(), e);
            }
        }
        throw new ContainerException("the container name \"" + name + "\" is already in use");
    }

    private static Optional<String> readName(Path file) {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    void releaseName(String name, String id) {
        Path file = dir.resolve(NAMES).resolve(name);
        if (readName(file).map(id::equals).orElse(false)) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // reserveName treats a name whose container is gone as free
            }
        }
    }

    void write(Path container, ContainerState state) {
        try {
            Path tmp = container.resolve(STATE + ".tmp");
            Files.write(tmp, state.toJson());
            Files.move(tmp, container.resolve(STATE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new ContainerException("cannot write the state of container " + state.id() + ": " + e.getMessage(), e);
        }
    }

    Optional<ContainerState> read(Path container) {
        try {
            return Optional.of(ContainerState.fromJson(Files.readAllBytes(container.resolve(STATE)),
                    container.resolve(STATE).toString()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new ContainerException("cannot read " + container.resolve(STATE) + ": " + e.getMessage(), e);
        }
    }

    /** The container directories (named by id). */
    List<Path> containers() {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (!p.getFileName().toString().startsWith(".") && Files.isDirectory(p)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            throw new ContainerException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Directories of setups that died before their rename (older than a minute, so none is in progress), and
     * of removals whose berth died.
     */
    List<Path> abandonedSetups() {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        Instant cutoff = Instant.now().minus(Duration.ofMinutes(1));
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".new-*")) {
            for (Path p : ds) {
                if (Files.getLastModifiedTime(p).toInstant().isBefore(cutoff)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            throw new ContainerException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".rm-*")) {
            for (Path p : ds) { // a removal whose berth died half-way through
                String n = p.getFileName().toString();
                String pid = n.substring(n.lastIndexOf('-') + 1);
                if (pid.matches("\\d{1,18}") && ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            throw new ContainerException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Whether a container's berth is alive: its marker exists and someone holds its lock. */
    static boolean isRunning(Path container) {
        if (!Files.exists(container.resolve(RUNNING))) {
            return false;
        }
        return tryLock(container).map(l -> {
            l.close();
            return false;
        }).orElse(true);
    }

    /**
     * The container's locks if nobody holds them: the lock of the berth that runs it and the keeper lock
     * of the helper's monitor that keeps a detached one (an open file description lock, which conflicts
     * with this JVM's record locks).
     */
    static Optional<Slot> tryLock(Path container) {
        FileChannel ch = null;
        FileChannel keeper = null;
        try {
            ch = FileChannel.open(container.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.tryLock();
            if (lock == null) {
                ch.close();
                return Optional.empty();
            }
            Path keeperLock = container.resolve(Detached.KEEPER_LOCK);
            if (Files.exists(keeperLock)) {
                keeper = FileChannel.open(keeperLock, StandardOpenOption.WRITE);
                if (keeper.tryLock() == null) {
                    keeper.close();
                    ch.close();
                    return Optional.empty();
                }
            }
            return Optional.of(new Slot(container, container.getFileName().toString(), "", ch, lock, keeper));
        } catch (OverlappingFileLockException held) {
            closeQuietly(ch);
            closeQuietly(keeper);
            return Optional.empty(); // this JVM runs it
        } catch (NoSuchFileException gone) {
            closeQuietly(ch);
            closeQuietly(keeper);
            return Optional.empty();
        } catch (IOException e) {
            closeQuietly(ch);
            closeQuietly(keeper);
            throw new ContainerException("cannot lock " + container.resolve(LOCK) + ": " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing held
            }
        }
    }

    /** Finds a container by name, full id or unique id prefix. */
    Optional<Path> find(String nameOrId) {
        Optional<String> byName = readName(dir.resolve(NAMES).resolve(nameOrId));
        if (byName.isPresent() && Files.isDirectory(dir.resolve(byName.get()))) {
            return Optional.of(dir.resolve(byName.get()));
        }
        if (!nameOrId.matches("[0-9a-f]{1,64}")) {
            return Optional.empty();
        }
        List<Path> matches = containers().stream()
                .filter(p -> p.getFileName().toString().startsWith(nameOrId)).toList();
        if (matches.size() > 1) {
            throw new ContainerException("container id prefix " + nameOrId + " is ambiguous: give more of it");
        }
        return matches.stream().findFirst();
    }

    /**
     * Deletes a container's directory and its name. The directory is first renamed out of the way
     * ({@code .rm-ID-PID}), atomically: its lock file goes with it, so no other berth can lock a new one
     * in a half-deleted directory and clean it up at the same time; one another berth removed already is
     * gone, which is what was asked.
     */
    void delete(Path container, String name, String id) {
        Path trash = dir.resolve(".rm-" + id + "-" + ProcessHandle.current().pid());
        try {
            Files.move(container, trash, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException gone) {
            releaseName(name, id);
            return;
        } catch (IOException e) {
            throw new ContainerException("cannot remove " + container + ": " + e.getMessage(), e);
        }
        try {
            deleteTree(trash);
        } catch (IOException e) {
            throw new ContainerException("cannot remove " + container + " (now " + trash.getFileName() + "): "
                    + e.getMessage(), e);
        }
        releaseName(name, id);
    }

    /** Deletes a container's directory, whoever in the user's namespace owns its files. */
    void deleteTree(Path container) throws IOException {
        if (userns.isPresent()) {
            userns.get().deleteTree(container);
        } else {
            LayerExtractor.deleteTree(container);
        }
    }
}

package dev.berth.layers;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Temporary directories named after the process that owns them ({@code PREFIX<pid>-<random>}), so that a
 * later berth can remove those of a process that was killed before it could clean up. There is no daemon
 * to do it; every command that makes such directories sweeps the abandoned ones first, and opening a store
 * sweeps its temporary directory of everything a dead berth left ({@link #removeAllAbandoned}).
 */
public final class TempDirs {
    private TempDirs() {}

    /** A new directory (0755) in {@code parent}, owned by this process. */
    public static Path create(Path parent, String prefix) throws IOException {
        Files.createDirectories(parent);
        return Files.createTempDirectory(parent, prefix + ProcessHandle.current().pid() + "-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }

    /** A new empty file in {@code parent} ({@code PREFIX<pid>-<random>SUFFIX}), owned by this process. */
    public static Path createFile(Path parent, String prefix, String suffix) throws IOException {
        Files.createDirectories(parent);
        return Files.createTempFile(parent, prefix + ProcessHandle.current().pid() + "-", suffix);
    }

    /**
     * Deletes every entry of {@code parent} named {@code WORD-<pid>-...} whose process no longer runs, files
     * and directories alike, whatever the word: what a killed berth was writing. An entry that cannot be
     * deleted (a tree of a user namespace's ids, say) is left for the sweep of the command that made it.
     */
    public static void removeAllAbandoned(Path parent) {
        if (!Files.isDirectory(parent)) {
            return;
        }
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
            for (Path p : entries) {
                java.util.regex.Matcher m = OWNED.matcher(p.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException notOurs) {
                    continue;
                }
                if (pid != self && ProcessHandle.of(pid).isEmpty()) {
                    try {
                        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                            LayerExtractor.deleteTree(p);
                        } else {
                            Files.deleteIfExists(p);
                        }
                    } catch (IOException busy) {
                        // left for the next sweep
                    }
                }
            }
        } catch (IOException e) {
            // a directory that cannot be listed holds nothing we could remove either
        }
    }

    private static final java.util.regex.Pattern OWNED = java.util.regex.Pattern.compile("[a-z]+-([0-9]{1,10})-.*");

    /**
     * Deletes the directories in {@code parent} made with {@code prefix} by processes that no longer run.
     * Failures are left for the next sweep.
     */
    public static void removeAbandoned(Path parent, String prefix) {
        for (Path p : abandoned(parent, prefix)) {
            try {
                LayerExtractor.deleteTree(p);
            } catch (IOException busy) {
                // left for the next sweep
            }
        }
    }

    /** The directories in {@code parent} made with {@code prefix} by processes that no longer run. */
    public static java.util.List<Path> abandoned(Path parent, String prefix) {
        java.util.List<Path> out = new java.util.ArrayList<>();
        if (!Files.isDirectory(parent)) {
            return out;
        }
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, prefix + "*")) {
            for (Path p : entries) {
                String rest = p.getFileName().toString().substring(prefix.length());
                int dash = rest.indexOf('-');
                if (dash <= 0) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(rest.substring(0, dash));
                } catch (NumberFormatException notOurs) {
                    continue;
                }
                if (pid != self && ProcessHandle.of(pid).isEmpty()) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            // a directory that cannot be listed holds nothing we could remove either
        }
        return out;
    }
}

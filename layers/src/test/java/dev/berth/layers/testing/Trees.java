package dev.berth.layers.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** Builds directory trees for tests and describes trees for comparison. */
public final class Trees {
    private Trees() {}

    /** Writes a file (creating parents) with the given text and mode. */
    public static Path file(Path root, String path, String text, int mode) {
        try {
            Path p = root.resolve(path);
            Files.createDirectories(p.getParent());
            Files.writeString(p, text);
            Files.setAttribute(p, "unix:mode", mode);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path dir(Path root, String path, int mode) {
        try {
            Path p = Files.createDirectories(root.resolve(path));
            Files.setAttribute(p, "unix:mode", mode);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path symlink(Path root, String path, String target) {
        try {
            Path p = root.resolve(path);
            Files.createDirectories(p.getParent());
            return Files.createSymbolicLink(p, Path.of(target));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A description of a tree, one line per path (sorted): type, permission bits, and the content's
     * sha256 for files or the target for symlinks. Ownership and times are left out unless asked for.
     */
    public static Map<String, String> describe(Path root, boolean withOwners) {
        Map<String, String> out = new TreeMap<>();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                    if (!d.equals(root)) {
                        out.put(root.relativize(d).toString(), "dir " + attrs(d, withOwners));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                    String rel = root.relativize(f).toString();
                    if (a.isSymbolicLink()) {
                        out.put(rel, "symlink -> " + Files.readSymbolicLink(f));
                    } else if (a.isRegularFile()) {
                        out.put(rel, "file " + attrs(f, withOwners) + " " + content(f));
                    } else {
                        Map<String, Object> m = Files.readAttributes(f, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
                        out.put(rel, "special " + Integer.toOctalString((Integer) m.get("mode")) + " rdev " + m.get("rdev"));
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static String attrs(Path p, boolean withOwners) throws IOException {
        Map<String, Object> m = Files.readAttributes(p, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        String mode = Integer.toOctalString((Integer) m.get("mode") & 07777);
        return withOwners ? mode + " " + m.get("uid") + ":" + m.get("gid") : mode;
    }

    /**
     * A file's sha256; for one this user may not read (rootless: a sub-id's, 0700), its size and times
     * instead, which a change of content would change too.
     */
    private static String content(Path f) throws IOException {
        try {
            return sha256(f);
        } catch (java.nio.file.AccessDeniedException e) {
            Map<String, Object> m = Files.readAttributes(f, "unix:size,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
            return "unreadable size " + m.get("size") + " mtime " + m.get("lastModifiedTime") + " ctime " + m.get("ctime");
        }
    }

    public static String sha256(Path f) throws IOException {
        try (var in = Files.newInputStream(f)) {
            var md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String text(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

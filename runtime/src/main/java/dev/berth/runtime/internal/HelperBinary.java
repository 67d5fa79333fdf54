package dev.berth.runtime.internal;

import dev.berth.runtime.ContainerException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Properties;

/**
 * The native helper, shipped inside the jar as a resource (built by the runtime module's Maven build) and
 * copied once to {@code DIR/berth-helper-<sha256 prefix>}: the name is the content, so a path that exists
 * holds the right binary (it is renamed into place only after its hash was checked), and two berth
 * versions never overwrite each other's helper.
 */
public final class HelperBinary {
    private static final String RESOURCE = "/dev/berth/runtime/native/berth-helper";
    private static volatile Path cached;

    private HelperBinary() {}

    /** The helper's path under {@code dir}, extracting it on first use. */
    public static Path ensure(Path dir) {
        Path c = cached;
        if (c != null && c.startsWith(dir)) {
            return c;
        }
        Properties props = new Properties();
        try (InputStream in = HelperBinary.class.getResourceAsStream(RESOURCE + ".properties")) {
            if (in == null) {
                throw new ContainerException("this berth was built without its native helper ("
                        + RESOURCE + "): rebuild it with gcc installed");
            }
            props.load(in);
        } catch (IOException e) {
            throw new ContainerException("cannot read the helper's properties: " + e.getMessage(), e);
        }
        String sha = props.getProperty("sha256", "");
        String arch = props.getProperty("arch", "");
        String host = hostArch();
        if (!arch.equals(host)) {
            throw new ContainerException("this berth's native helper is built for " + arch + ", not for this "
                    + host + " machine: rebuild berth here");
        }
        Path target = dir.resolve("berth-helper-" + sha.substring(0, 16));
        if (!Files.isExecutable(target)) {
            extract(target, sha);
        }
        cached = target;
        return target;
    }

    private static String hostArch() {
        String a = System.getProperty("os.arch", "");
        return switch (a) {
            case "amd64" -> "x86_64";
            case "arm64" -> "aarch64";
            default -> a;
        };
    }

    private static void extract(Path target, String sha) {
        Path tmp = null;
        try {
            Files.createDirectories(target.getParent());
            tmp = Files.createTempFile(target.getParent(), ".berth-helper-", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            MessageDigest h = MessageDigest.getInstance("SHA-256");
            try (InputStream in = HelperBinary.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new ContainerException("this berth was built without its native helper");
                }
                byte[] bytes = in.readAllBytes();
                h.update(bytes);
                Files.write(tmp, bytes);
            }
            String actual = HexFormat.of().formatHex(h.digest());
            if (!actual.equals(sha)) {
                throw new ContainerException("the native helper in this berth is corrupt (sha256 " + actual
                        + ", expected " + sha + ")");
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new ContainerException("cannot install the native helper at " + target + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a stray temp file in the helper directory is harmless
                }
            }
        }
    }
}

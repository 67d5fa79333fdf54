package dev.berth.layers;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The entries of a layer, checked as the layer enters the store ({@code berth load}), so that a hostile
 * image never sits in the store to be pushed on: no absolute name, nothing that leads out of the root with
 * {@code ..}, no entry written through a symlink of the same layer, no hard link out of the layer or through
 * such a symlink, and no entry that claims more bytes than the layer holds. {@link LayerExtractor} checks
 * the same again when it extracts (and there also against the layers below).
 */
public final class LayerCheck {
    private LayerCheck() {}

    /** A layer refused for one of its entries (or for not being a tar). */
    public static final class Refused extends LayersException {
        Refused(String message) {
            super(message);
        }

        Refused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Reads the layer {@code blob} (gzip, zstd or plain, as its first bytes say) to its end; throws a
     * {@link LayersException} naming {@code what} and the entry on the first entry that breaks a rule.
     */
    public static void check(InputStream blob, String what) throws IOException {
        InputStream tar;
        try {
            tar = Compression.decompress(blob);
        } catch (IOException broken) {
            throw new Refused(what + ": not a valid tar layer: " + broken.getMessage(), broken);
        }
        checkTar(tar, what);
    }

    /** As {@link #check}, for a tar that is already plain. */
    public static void checkTar(InputStream tar, String what) throws IOException {
        TarArchiveInputStream in = new LayerTarInput(tar);
        Set<String> symlinks = new HashSet<>();
        TarArchiveEntry e;
        while (true) {
            try {
                e = in.getNextEntry();
                if (e == null) {
                    break;
                }
                String name = inside(e.getName(), what, "entry");
                through(name, symlinks, what, "entry " + e.getName());
                if (e.isSymbolicLink()) {
                    symlinks.add(name);
                } else if (e.isLink()) {
                    String target = inside(e.getLinkName(), what, "hard link " + e.getName() + " to");
                    through(target, symlinks, what, "hard link " + e.getName() + " to " + e.getLinkName());
                }
                long size = e.getSize();
                long skipped;
                try {
                    skipped = size > 0 ? in.skip(size) : 0;
                } catch (IOException truncated) {
                    throw new Refused(what + ": entry " + e.getName() + " claims " + size + " bytes, more than the"
                            + " layer holds: it is truncated or corrupt (" + truncated.getMessage() + ")", truncated);
                }
                if (skipped < size) {
                    throw new Refused(what + ": entry " + e.getName() + " claims " + size
                            + " bytes, more than the layer holds");
                }
            } catch (Refused bad) {
                throw bad;
            } catch (IOException | IllegalArgumentException broken) {
                throw new Refused(what + ": not a valid tar layer: " + broken.getMessage(), broken);
            }
        }
        try {
            tar.transferTo(java.io.OutputStream.nullOutputStream()); // the end, so that a verifying stream checks it
        } catch (IOException broken) {
            throw new Refused(what + ": not a valid tar layer: " + broken.getMessage(), broken);
        }
    }

    /** {@code name} cleaned, refused when it is absolute or leads out of the root. */
    private static String inside(String name, String what, String which) {
        if (name.startsWith("/")) {
            throw new Refused(what + ": " + which + " " + name + " has an absolute name");
        }
        try {
            return LayerPath.within(name).orElseThrow(() -> new Refused(what + ": " + which + " " + name
                    + " leads out of the root")).value();
        } catch (Refused r) {
            throw r;
        } catch (LayersException bad) { // a NUL byte
            throw new Refused(what + ": " + which + " " + name + ": " + bad.getMessage());
        }
    }

    /** Refuses {@code path} when one of its parent directories is a symlink the layer made. */
    private static void through(String path, Set<String> symlinks, String what, String which) {
        for (int slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
            String parent = path.substring(0, slash);
            if (symlinks.contains(parent)) {
                throw new Refused(what + ": " + which + " is written through the symlink " + parent);
            }
        }
    }
}

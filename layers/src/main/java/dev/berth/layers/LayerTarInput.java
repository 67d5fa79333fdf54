package dev.berth.layers;

import java.io.IOException;
import java.io.InputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A layer's tar, read as Go's archive/tar reads it (docker, containerd, containers/storage): a stream that
 * ends right after the last entry's content, without that entry's padding to 512 bytes and without the
 * end-of-archive blocks, is complete (umoci 0.4's {@code insert} writes such layers). Content that is cut
 * short is still an error.
 */
public final class LayerTarInput extends TarArchiveInputStream {
    private boolean ended;

    public LayerTarInput(InputStream in) {
        super(in);
    }

    public LayerTarInput(InputStream in, String encoding) {
        super(in, encoding);
    }

    @Override
    public TarArchiveEntry getNextEntry() throws IOException {
        if (ended) {
            return null;
        }
        TarArchiveEntry current = getCurrentEntry();
        if (current == null) {
            return super.getNextEntry();
        }
        // the rest of the current entry's content first: a shortfall there is a truncated layer
        byte[] buffer = new byte[8192];
        while (read(buffer) >= 0) {
            // discarded, as TarArchiveInputStream itself skips what its reader left
        }
        try {
            return super.getNextEntry();
        } catch (IOException e) {
            if (!"Truncated TAR archive".equals(e.getMessage())) {
                throw e;
            }
            ended = true; // only the padding after complete content was missing: the end, as for Go
            return null;
        }
    }
}

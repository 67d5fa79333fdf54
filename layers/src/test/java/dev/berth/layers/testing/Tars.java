package dev.berth.layers.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Hand-made tar archives, including ones no sane writer produces, for extractor tests. */
public final class Tars {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar;

    public Tars() {
        tar = new TarArchiveOutputStream(bytes, 512, StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    }

    public Tars dir(String name) {
        return entry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, null, 0755, e -> { });
    }

    public Tars file(String name, String content) {
        return file(name, content, 0644);
    }

    public Tars file(String name, String content, int mode) {
        return entry(name, TarConstants.LF_NORMAL, content, mode, e -> { });
    }

    /** A regular file with binary content. */
    public Tars file(String name, byte[] content) {
        try {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
            e.setMode(0644);
            e.setModTime(1000L);
            e.setSize(content.length);
            tar.putArchiveEntry(e);
            tar.write(content);
            tar.closeArchiveEntry();
            return this;
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    public Tars symlink(String name, String target) {
        return entry(name, TarConstants.LF_SYMLINK, null, 0777, e -> e.setLinkName(target));
    }

    public Tars hardlink(String name, String target) {
        return entry(name, TarConstants.LF_LINK, null, 0644, e -> e.setLinkName(target));
    }

    public Tars entry(String name, byte type, String content, int mode, Consumer<TarArchiveEntry> customise) {
        try {
            TarArchiveEntry e = new TarArchiveEntry(name, type, true);
            e.setMode(mode);
            e.setUserName("");
            e.setGroupName("");
            e.setModTime(1000L);
            byte[] data = content == null ? new byte[0] : content.getBytes(StandardCharsets.UTF_8);
            e.setSize(data.length);
            customise.accept(e);
            tar.putArchiveEntry(e);
            tar.write(data);
            tar.closeArchiveEntry();
            return this;
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    public byte[] bytes() {
        try {
            tar.finish();
            tar.close();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return bytes.toByteArray();
    }
}

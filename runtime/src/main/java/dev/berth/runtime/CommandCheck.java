package dev.berth.runtime;

import dev.berth.runtime.internal.LayeredFs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Checks, before anything starts, that the container's command can run, the way execve would judge it in
 * the container: found in PATH (127), executable by the user (126), and with its loader present: the ELF
 * interpreter of a dynamically linked binary or the {@code #!} interpreter of a script (127, with the
 * reason, since the kernel's own "no such file or directory" names a file that exists). Paths under a
 * volume are not in the image and are left to the helper, which reports the same codes at exec time.
 */
final class CommandCheck {
    private CommandCheck() {}

    static void check(LayeredFs image, List<String> args, String cwd, String searchPath, ImageUser user,
                      List<String> volumeTargets) {
        String file = args.getFirst();
        if (file.isEmpty()) {
            throw new ContainerException(ContainerException.NOT_FOUND, "exec: empty command");
        }
        if (file.contains("/")) {
            String path = ContainerPaths.normalize(file.startsWith("/") ? file : cwd + "/" + file, "command");
            if (underVolume(path, volumeTargets)) {
                return;
            }
            Optional<LayeredFs.Entry> e = image.lookup(path);
            if (e.isEmpty()) {
                throw new ContainerException(ContainerException.NOT_FOUND,
                        "exec " + file + ": no such file or directory in the image");
            }
            checkRunnable(image, e.get(), file, user, volumeTargets);
            return;
        }
        Optional<LayeredFs.Entry> denied = Optional.empty();
        for (String dir : searchPath.split(":", -1)) {
            String d = dir.isEmpty() ? cwd : dir.startsWith("/") ? dir : cwd + "/" + dir;
            String path = ContainerPaths.normalize(d + "/" + file, "command");
            if (underVolume(path, volumeTargets)) {
                return;
            }
            Optional<LayeredFs.Entry> e = image.lookup(path);
            if (e.isEmpty()) {
                continue;
            }
            if (e.get().isRegularFile() && canExecute(e.get(), user)) {
                checkRunnable(image, e.get(), path, user, volumeTargets);
                return;
            }
            if (denied.isEmpty()) {
                denied = e;
            }
        }
        if (denied.isPresent()) {
            checkRunnable(image, denied.get(), denied.get().path(), user, volumeTargets);
        }
        throw new ContainerException(ContainerException.NOT_FOUND,
                "exec: \"" + file + "\": executable file not found in $PATH (" + searchPath + ")");
    }

    private static boolean underVolume(String path, List<String> volumeTargets) {
        return volumeTargets.stream().anyMatch(v -> ContainerPaths.isUnder(path, v));
    }

    private static void checkRunnable(LayeredFs image, LayeredFs.Entry e, String shown, ImageUser user,
                                      List<String> volumeTargets) {
        if (e.isDirectory()) {
            throw new ContainerException(ContainerException.NOT_EXECUTABLE, "exec " + shown + ": is a directory");
        }
        if (!e.isRegularFile()) {
            throw new ContainerException(ContainerException.NOT_EXECUTABLE, "exec " + shown + ": not a regular file");
        }
        if (!canExecute(e, user)) {
            throw new ContainerException(ContainerException.NOT_EXECUTABLE, "exec " + shown
                    + ": permission denied: mode " + String.format("%04o", e.permissions()) + ", owner "
                    + e.uid() + ":" + e.gid() + ", and the container runs as " + user.uid() + ":" + user.gid());
        }
        Optional<String> loader;
        String kind;
        try {
            Header h = header(e);
            loader = h.interpreter();
            kind = h.elf() ? "is dynamically linked: its ELF interpreter " : "is a script: its interpreter ";
        } catch (java.nio.file.AccessDeniedException x) {
            return; // rootless, a file of a sub-id's this user may not read: the helper reports at exec time
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
        if (loader.isEmpty() || !loader.get().startsWith("/") || underVolume(loader.get(), volumeTargets)) {
            return;
        }
        if (image.lookup(loader.get()).isEmpty()) {
            throw new ContainerException(ContainerException.NOT_FOUND, "exec " + shown + ": no such file or "
                    + "directory: " + shown + " " + kind + loader.get() + " is not in the image"
                    + (kind.contains("ELF") ? " (an image without a C library, e.g. FROM scratch, needs a "
                    + "statically linked binary)" : ""));
        }
    }

    /** Whether the user may execute the file; root needs one x bit (it has CAP_DAC_OVERRIDE). */
    static boolean canExecute(LayeredFs.Entry e, ImageUser user) {
        int mode = e.permissions();
        if (user.uid() == 0) {
            return (mode & 0111) != 0;
        }
        if (e.uid() == user.uid()) {
            return (mode & 0100) != 0;
        }
        if (e.gid() == user.gid() || user.additionalGids().contains(e.gid())) {
            return (mode & 0010) != 0;
        }
        return (mode & 0001) != 0;
    }

    private record Header(boolean elf, Optional<String> interpreter) {}

    /** The PT_INTERP of an ELF file, or the interpreter of a {@code #!} line. */
    private static Header header(LayeredFs.Entry e) throws IOException {
        try (FileChannel ch = FileChannel.open(e.file())) {
            ByteBuffer head = ByteBuffer.allocate(256);
            ch.read(head, 0);
            head.flip();
            if (head.remaining() >= 2 && head.get(0) == '#' && head.get(1) == '!') {
                String line = StandardCharsets.UTF_8.decode(head.position(2)).toString().split("\n", 2)[0].trim();
                String interp = line.split("[ \t]+", 2)[0];
                return new Header(false, interp.isEmpty() ? Optional.empty() : Optional.of(interp));
            }
            if (head.remaining() < 64 || head.get(0) != 0x7f || head.get(1) != 'E' || head.get(2) != 'L'
                    || head.get(3) != 'F') {
                return new Header(false, Optional.empty());
            }
            boolean is64 = head.get(4) == 2;
            head.order(head.get(5) == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            long phoff = is64 ? head.getLong(32) : Integer.toUnsignedLong(head.getInt(28));
            int phentsize = Short.toUnsignedInt(head.getShort(is64 ? 54 : 42));
            int phnum = Short.toUnsignedInt(head.getShort(is64 ? 56 : 44));
            if (phentsize == 0 || phnum == 0 || phnum > 4096) {
                return new Header(true, Optional.empty());
            }
            ByteBuffer ph = ByteBuffer.allocate(phentsize * phnum).order(head.order());
            ch.read(ph, phoff);
            for (int i = 0; i < phnum && (i + 1) * phentsize <= ph.position(); i++) {
                int base = i * phentsize;
                if (ph.getInt(base) != 3) { // PT_INTERP
                    continue;
                }
                long off = is64 ? ph.getLong(base + 8) : Integer.toUnsignedLong(ph.getInt(base + 4));
                long size = is64 ? ph.getLong(base + 32) : Integer.toUnsignedLong(ph.getInt(base + 16));
                if (size <= 0 || size > 4096) {
                    return new Header(true, Optional.empty());
                }
                ByteBuffer s = ByteBuffer.allocate((int) size);
                ch.read(s, off);
                String interp = new String(s.array(), 0, s.position(), StandardCharsets.UTF_8);
                int nul = interp.indexOf('\0');
                return new Header(true, Optional.of(nul >= 0 ? interp.substring(0, nul) : interp));
            }
            return new Header(true, Optional.empty());
        }
    }
}

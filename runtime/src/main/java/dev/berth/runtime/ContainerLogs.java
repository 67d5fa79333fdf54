package dev.berth.runtime;

import dev.berth.layers.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.BooleanSupplier;

/**
 * {@code berth logs}: a detached container's log as the helper's monitor writes it (docker's json-file
 * format: one {@code {"log":...,"stream":...,"time":...}} object per line, in {@code container.log} and
 * the rotated {@code container.log.1}, {@code .2}, ..., oldest last), each entry's text written to the
 * stream it came from.
 */
public final class ContainerLogs {
    /**
     * What to show: with {@code follow}, entries as they come until the container has ended; {@code tail}
     * the last N entries only; {@code since} entries from that time; {@code timestamps} each line prefixed
     * with its time (RFC 3339, nanoseconds), as docker prints them.
     */
    public record Query(boolean follow, OptionalInt tail, Optional<Instant> since, boolean timestamps) {}

    private record Entry(boolean stderr, String text, String time) {}

    private final Path dir;
    private final OutputStream out;
    private final OutputStream err;
    private final Query query;

    private ContainerLogs(Path dir, OutputStream out, OutputStream err, Query query) {
        this.dir = dir;
        this.out = out;
        this.err = err;
        this.query = query;
    }

    /** Writes the log of the container in {@code dir}; {@code running} tells whether to keep following. */
    static void write(Path dir, Query query, OutputStream out, OutputStream err, BooleanSupplier running)
            throws IOException {
        new ContainerLogs(dir, out, err, query).write(running);
    }

    private void write(BooleanSupplier running) throws IOException {
        Path current = dir.resolve(Detached.LOG);
        List<Path> rotated = new ArrayList<>();
        for (int i = 1; Files.exists(dir.resolve(Detached.LOG + "." + i)); i++) {
            rotated.addFirst(dir.resolve(Detached.LOG + "." + i));
        }
        Deque<Entry> tail = new ArrayDeque<>();
        for (Path f : rotated) {
            try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "r")) {
                readLines(r, tail);
            } catch (java.io.FileNotFoundException e) {
                // rotated away meanwhile
            }
        }
        RandomAccessFile r;
        long open = inode(current);
        try {
            r = new RandomAccessFile(current.toFile(), "r");
        } catch (java.io.FileNotFoundException e) {
            flush(tail);
            return;
        }
        try {
            readLines(r, tail);
            flush(tail);
            while (query.follow()) {
                boolean ended = !running.getAsBoolean();
                if (r.length() < r.getFilePointer()) {
                    r.seek(0); // truncated in place (one file kept): it starts again
                }
                long before = r.getFilePointer();
                readLines(r, null);
                long now = inode(current);
                if (now != -1 && now != open) { // rotated; what was left of the old file was just read
                    r.close();
                    open = now;
                    try {
                        r = new RandomAccessFile(current.toFile(), "r");
                    } catch (java.io.FileNotFoundException e) {
                        return;
                    }
                    continue;
                }
                if (ended && r.getFilePointer() == before) {
                    return; // it ended before this last read, which found nothing more
                }
                out.flush();
                err.flush();
                sleep();
            }
        } finally {
            r.close();
            out.flush();
            err.flush();
        }
    }

    /** Reads complete lines from where {@code r} is; into {@code keep} (for tail and since), or written at once. */
    private void readLines(RandomAccessFile r, Deque<Entry> keep) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        long start = r.getFilePointer();
        long consumed = start;
        for (int n; (n = r.read(buf)) > 0; ) {
            for (int i = 0; i < n; i++) {
                if (buf[i] == '\n') {
                    Optional<Entry> e = parse(line.toByteArray());
                    consumed += line.size() + 1;
                    line.reset();
                    if (e.isEmpty() || !wanted(e.get())) {
                        continue;
                    }
                    if (keep == null) {
                        emit(e.get());
                    } else {
                        keep.addLast(e.get());
                        if (query.tail().isPresent() && keep.size() > query.tail().getAsInt()) {
                            keep.removeFirst();
                        }
                    }
                } else {
                    line.write(buf[i]);
                }
            }
        }
        r.seek(consumed); // a line still being written is read again, whole, next time
    }

    private boolean wanted(Entry e) {
        if (query.since().isEmpty()) {
            return true;
        }
        try {
            return !Instant.parse(e.time()).isBefore(query.since().get());
        } catch (java.time.format.DateTimeParseException x) {
            return true;
        }
    }

    private static Optional<Entry> parse(byte[] line) {
        if (line.length == 0) {
            return Optional.empty();
        }
        try {
            if (Json.readPlain(line, "log entry") instanceof Map<?, ?> m && m.get("log") instanceof String text) {
                return Optional.of(new Entry("stderr".equals(m.get("stream")), text,
                        m.get("time") instanceof String t ? t : ""));
            }
        } catch (RuntimeException malformed) {
            // a line cut by a crash: skipped, as docker skips it
        }
        return Optional.empty();
    }

    private void flush(Deque<Entry> entries) throws IOException {
        for (Entry e : entries) {
            emit(e);
        }
        entries.clear();
    }

    private void emit(Entry e) throws IOException {
        OutputStream o = e.stderr() ? err : out;
        if (query.timestamps()) {
            o.write((e.time() + " ").getBytes(StandardCharsets.UTF_8));
        }
        o.write(e.text().getBytes(StandardCharsets.UTF_8));
    }

    /** The inode at {@code path}, or -1 when there is none. */
    private static long inode(Path path) {
        try {
            return ((Number) Files.getAttribute(path, "unix:ino")).longValue();
        } catch (IOException e) {
            return -1;
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

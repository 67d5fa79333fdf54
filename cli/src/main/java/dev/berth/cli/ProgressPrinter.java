package dev.berth.cli;

import dev.berth.layers.Digest;
import dev.berth.registry.Progress;
import dev.berth.registry.ProgressEvent;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders pull and push progress as {@code docker pull}/{@code docker push} do: one line per layer. On a
 * terminal the lines are redrawn in place with a bar, bytes and speed; otherwise each change of state is
 * printed once as a plain line (logs stay readable). Config blobs are not shown, as docker does not.
 */
final class ProgressPrinter implements Progress {
    enum Mode { PULL, PUSH }

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean tty;
    private final Mode mode;
    private final Map<Digest, Line> lines = new LinkedHashMap<>();
    private final List<Digest> configs = new ArrayList<>();
    private boolean rateShown;

    private static final class Line {
        String text;
        long started;
        long done;
        long size;
    }

    ProgressPrinter(PrintWriter out, PrintWriter err, boolean tty, Mode mode) {
        this.out = out;
        this.err = err;
        this.tty = tty;
        this.mode = mode;
    }

    /** Whether standard output is a terminal (Java 22+: a console exists even when it is not one). */
    static boolean terminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    @Override
    public synchronized void on(ProgressEvent event) {
        switch (event) {
            case ProgressEvent.BlobQueued q -> {
                if (q.kind() == ProgressEvent.BlobKind.CONFIG) {
                    configs.add(q.digest());
                    return;
                }
                Line l = line(q.digest(), q.size());
                set(q.digest(), l, mode == Mode.PULL ? "Pulling fs layer" : "Preparing");
            }
            case ProgressEvent.BlobExists e -> {
                if (e.kind() == ProgressEvent.BlobKind.CONFIG) {
                    configs.add(e.digest());
                    return;
                }
                set(e.digest(), line(e.digest(), e.size()), mode == Mode.PULL ? "Already exists" : "Layer already exists");
            }
            case ProgressEvent.BlobMounted m -> {
                if (!configs.contains(m.digest())) {
                    set(m.digest(), line(m.digest(), 0), "Mounted from " + m.fromRepository());
                }
            }
            case ProgressEvent.BlobResumed r -> {
                if (!configs.contains(r.digest())) {
                    Line l = line(r.digest(), 0);
                    set(r.digest(), l, "Resuming at " + bytes(r.offset()));
                }
            }
            case ProgressEvent.BlobProgress p -> {
                if (configs.contains(p.digest())) {
                    return;
                }
                Line l = line(p.digest(), p.size());
                if (l.started == 0) {
                    l.started = System.nanoTime();
                }
                l.done = p.done();
                if (tty) {
                    set(p.digest(), l, (mode == Mode.PULL ? "Downloading " : "Pushing ") + bar(l));
                }
            }
            case ProgressEvent.BlobDone d -> {
                if (!configs.contains(d.digest())) {
                    set(d.digest(), line(d.digest(), d.size()), mode == Mode.PULL ? "Download complete" : "Pushed");
                }
            }
            case ProgressEvent.Retrying r -> {
                String text = "Retrying in " + seconds(r.delay()) + " (" + r.reason() + ")";
                Digest target = lines.keySet().stream().filter(d -> r.what().endsWith(d.shortHex())).findFirst().orElse(null);
                if (target != null) {
                    set(target, lines.get(target), text);
                } else {
                    plain(r.what() + ": " + text);
                }
            }
            case ProgressEvent.RateLimit rl -> {
                if (!rateShown) {
                    rateShown = true;
                    plain(rl.registry() + ": " + rl.remaining() + " of " + rl.limit() + " pulls left"
                            + rl.window().map(w -> " (per " + hours(w) + ")").orElse(""));
                }
            }
            case ProgressEvent.Warning w -> {
                err.println("berth: warning: " + w.message());
                err.flush();
            }
            case ProgressEvent.Resolved r -> { }
            case ProgressEvent.PlatformSelected p -> { }
            case ProgressEvent.ManifestPushed m -> { }
        }
    }

    private Line line(Digest d, long size) {
        Line l = lines.get(d);
        if (l == null) {
            l = new Line();
            l.size = size;
            lines.put(d, l);
            if (tty) {
                out.println();
            }
        }
        if (size > 0) {
            l.size = size;
        }
        return l;
    }

    private void set(Digest d, Line l, String status) {
        String text = d.shortHex() + ": " + status;
        if (text.equals(l.text)) {
            return;
        }
        l.text = text;
        if (tty) {
            int up = lines.size() - indexOf(d);
            out.print("\033[" + up + "A\r\033[2K" + text + "\033[" + up + "B\r");
        } else {
            out.println(text);
        }
        out.flush();
    }

    private int indexOf(Digest d) {
        int i = 0;
        for (Digest k : lines.keySet()) {
            if (k.equals(d)) {
                return i;
            }
            i++;
        }
        return i;
    }

    /** A line of its own (below the layer lines on a terminal). */
    private void plain(String text) {
        out.println(text);
        out.flush();
        if (tty) {
            // the layer block is now one line further up: keep redrawing it by adding an anchor line
            lines.put(Digest.sha256(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)), placeholder(text));
        }
    }

    private static Line placeholder(String text) {
        Line l = new Line();
        l.text = text;
        return l;
    }

    private static String bar(Line l) {
        int width = 50;
        int filled = l.size > 0 ? (int) Math.min(width, l.done * width / l.size) : 0;
        String b = "[" + "=".repeat(Math.max(0, filled - 1)) + (filled > 0 && filled < width ? ">" : filled == width ? "=" : "")
                + " ".repeat(width - filled) + "]";
        double secs = Math.max(1e-3, (System.nanoTime() - l.started) / 1e9);
        return b + " " + bytes(l.done) + "/" + bytes(l.size) + "  " + bytes((long) (l.done / secs)) + "/s";
    }

    static String bytes(long n) {
        if (n < 1000) {
            return n + "B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.3g%s", v, units[u]);
    }

    private static String seconds(java.time.Duration d) {
        return d.toMillis() < 1000 ? d.toMillis() + " ms" : String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private static String hours(java.time.Duration d) {
        long h = d.toHours();
        return h > 0 && d.toMinutes() % 60 == 0 ? h + "h" : d.toMinutes() + "min";
    }
}

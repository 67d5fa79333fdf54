package dev.berth.cli;

import dev.berth.builder.BuildEvent;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Renders build events on stderr, as BuildKit's displays do.
 * <ul>
 *   <li>plain: one line per finished step ({@code [2/6] COPY app /app  0.4s}, or {@code CACHED}), and every
 *       line a RUN prints as it comes, with its step number and time ({@code #3 0.412 compiling...});
 *   <li>live (a terminal): the running step is redrawn with a clock and its last few output lines below
 *       it, which collapse into the step's line when it is done;
 *   <li>quiet: warnings only.
 * </ul>
 * When a step fails, the live and quiet displays show the end of its output, which they did not print.
 */
final class BuildProgress implements Consumer<BuildEvent>, AutoCloseable {
    private static final int SHOWN = 6;

    private final PrintWriter err;
    private final boolean live;
    private final boolean quiet;
    private final int width;
    private final Thread ticker;
    private final Deque<String> lastLines = new ArrayDeque<>();
    private BuildEvent.Step current;
    private long startedNanos;
    /** How many lines the live block takes on the screen now (0: none drawn), and when it was drawn. */
    private int drawn;
    private long drawnNanos;

    BuildProgress(PrintWriter err, boolean live, boolean quiet) {
        this.err = err;
        this.live = live;
        this.quiet = quiet;
        this.width = columns();
        this.ticker = live ? Thread.ofPlatform().daemon().name("berth-progress").start(this::tick) : null;
    }

    private static int columns() {
        try {
            return Math.max(40, Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100")));
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    @Override
    public synchronized void accept(BuildEvent event) {
        switch (event) {
            case BuildEvent.StepStarted s -> {
                current = s.step();
                startedNanos = System.nanoTime();
                lastLines.clear();
                redraw();
            }
            case BuildEvent.StepDone d -> {
                clearBlock();
                current = null;
                lastLines.clear();
                if (!quiet) {
                    err.println(d.step().label() + "  " + (d.cached() ? "CACHED" : seconds(d.duration())));
                    err.flush();
                }
            }
            case BuildEvent.Output o -> {
                if (quiet) {
                    return;
                }
                if (live) {
                    if (lastLines.size() == SHOWN) {
                        lastLines.removeFirst();
                    }
                    lastLines.addLast(o.line());
                    if (System.nanoTime() - drawnNanos > 50_000_000L) { // a chatty step: the ticker draws the rest
                        redraw();
                    }
                } else {
                    err.println("#" + o.step().number() + " " + String.format(Locale.ROOT, "%.3f",
                            (System.nanoTime() - startedNanos) / 1e9) + " " + o.line());
                    err.flush();
                }
            }
            case BuildEvent.StepFailed f -> {
                clearBlock();
                if (live || quiet) {
                    List<String> tail = f.lastLines();
                    if (!tail.isEmpty()) {
                        err.println(f.step().label() + ": the last " + tail.size() + " lines of its output:");
                        tail.forEach(l -> err.println("  " + l));
                    }
                }
                current = null;
                err.flush();
            }
            case BuildEvent.Warning w -> {
                clearBlock();
                err.println("WARNING: " + w.message());
                redraw();
            }
            case BuildEvent.Note n -> {
                if (!quiet) {
                    clearBlock();
                    err.println(n.message());
                    redraw();
                }
            }
        }
    }

    private void tick() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                redraw();
            }
        }
    }

    /** Draws the running step's line and its last output lines, in place of what was drawn before. */
    private void redraw() {
        if (!live || current == null) {
            err.flush();
            return;
        }
        clearBlock();
        err.print(cut(current.label() + "  " + seconds(Duration.ofNanos(System.nanoTime() - startedNanos))));
        drawn = 1;
        drawnNanos = System.nanoTime();
        for (String l : lastLines) {
            err.print("\n\033[2m  " + cut(l.replace('\t', ' ')) + "\033[0m");
            drawn++;
        }
        err.flush();
    }

    /** Erases the live block; the cursor ends at the start of its first line. */
    private void clearBlock() {
        if (!live || drawn == 0) {
            return;
        }
        err.print("\r\033[2K");
        for (int i = 1; i < drawn; i++) {
            err.print("\033[1A\r\033[2K");
        }
        drawn = 0;
    }

    /** A line cut to the terminal's width, so that none wraps (a wrapped line would break the redraw). */
    private String cut(String line) {
        int max = width - 3;
        return line.length() <= max ? line : line.substring(0, max - 3) + "...";
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1fs", d.toNanos() / 1e9);
    }

    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.interrupt();
        }
        clearBlock();
        current = null;
        err.flush();
    }
}

package dev.berth.runtime;

import dev.berth.runtime.internal.Keeper;
import dev.berth.runtime.internal.Monitor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The files of a detached container ({@code berth run -d}) in its directory: {@code container.log} (and its
 * rotated {@code container.log.N}), which the helper's monitor writes; {@code exit}, where it records how
 * the container ended; {@code keeper.lock}, which it holds while the container runs.
 */
final class Detached {
    static final String LOG = "container.log";
    static final String EXIT = "exit";
    static final String KEEPER_LOCK = "keeper.lock";

    /** The helper's own streams: nothing of berth's terminal, which the container outlives. */
    static final Monitor.Streams STREAMS = new Monitor.Streams(
            ProcessBuilder.Redirect.from(new java.io.File("/dev/null")), ProcessBuilder.Redirect.DISCARD,
            ProcessBuilder.Redirect.DISCARD, false);

    private Detached() {}

    static Keeper keeper(Path container, DetachOptions d) {
        return new Keeper(container.resolve(LOG), d.logMaxBytes(), d.logMaxFiles(), container.resolve(EXIT),
                container.resolve(KEEPER_LOCK), d.exitCommand());
    }

    /**
     * How a detached container ended, from its exit file: its docker exit code (or the helper's error, with
     * its message), and when. Empty when the monitor wrote none (it was killed).
     */
    record Exit(int code, Optional<String> error, Instant finished) {}

    static Optional<Exit> readExit(Path container) {
        List<String> lines;
        try {
            lines = Files.readAllLines(container.resolve(EXIT));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new ContainerException("cannot read " + container.resolve(EXIT) + ": " + e.getMessage(), e);
        }
        if (lines.size() < 2 || !lines.get(1).startsWith("finished ")) {
            return Optional.empty();
        }
        String[] when = lines.get(1).substring("finished ".length()).split("\\.");
        Instant finished = Instant.ofEpochSecond(Long.parseLong(when[0]), when.length > 1 ? Long.parseLong(when[1]) : 0);
        String[] w = lines.get(0).split(" ", 3);
        return Optional.of(switch (w[0]) {
            case "exited" -> new Exit(w[1].equals("signal") ? 128 + Integer.parseInt(w[2]) : Integer.parseInt(w[2]),
                    Optional.empty(), finished);
            case "error" -> new Exit(Integer.parseInt(w[1]), Optional.of(w.length > 2 ? w[2] : "failed"), finished);
            default -> throw new ContainerException(container.resolve(EXIT) + ": not an exit record: " + lines.get(0));
        });
    }

    /** The code an exit file records, for the state. */
    static OptionalInt code(Optional<Exit> exit) {
        return exit.map(e -> OptionalInt.of(e.code())).orElse(OptionalInt.empty());
    }
}

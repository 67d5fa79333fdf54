package dev.berth.runtime;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A container as {@code berth ps} shows it.
 *
 * @param pid the host pid of the container's PID 1 while it runs
 * @param exitCode its exit code once it exited (empty when berth was killed while it ran)
 * @param ports the ports published to it while it runs
 * @param paused it runs, frozen by {@code berth pause}
 * @param started when it last started ({@code berth start} runs it again)
 */
public record ContainerInfo(String id, String name, String image, List<String> command, Instant created,
                            Status status, OptionalLong pid, OptionalInt exitCode, boolean oomKilled,
                            Optional<Instant> finished, List<PortMapping> ports, boolean paused, Instant started) {
    public ContainerInfo {
        command = List.copyOf(command);
        ports = List.copyOf(ports);
    }

    public enum Status {
        /** Its PID 1 runs. */
        RUNNING,
        /** It ended; its upper directory is kept until {@code berth rm}. */
        EXITED,
        /** The berth that ran it was killed; the container was stopped and cleaned up afterwards. */
        DEAD
    }
}

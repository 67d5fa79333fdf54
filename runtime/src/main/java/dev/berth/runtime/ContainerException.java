package dev.berth.runtime;

import dev.berth.layers.BerthException;

/**
 * An error of the runtime, with the exit code {@code berth run} ends with, as docker's: 125 when berth
 * itself failed (bad input, a missing image, a setup step), 126 when the command cannot be executed, 127
 * when it cannot be found.
 */
public class ContainerException extends BerthException {
    public static final int BERTH_FAILED = 125;
    public static final int NOT_EXECUTABLE = 126;
    public static final int NOT_FOUND = 127;

    private final int exitCode;

    public ContainerException(String message) {
        this(BERTH_FAILED, message);
    }

    public ContainerException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public ContainerException(String message, Throwable cause) {
        super(message, cause);
        this.exitCode = BERTH_FAILED;
    }

    /** 125, 126 or 127. */
    public int exitCode() {
        return exitCode;
    }
}

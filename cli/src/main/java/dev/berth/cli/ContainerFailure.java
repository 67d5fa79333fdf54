package dev.berth.cli;

import dev.berth.layers.BerthException;
import dev.berth.runtime.ContainerException;

/** A runtime error on its way to the user, with docker's exit code (125, 126, 127). */
final class ContainerFailure extends BerthException implements Berth.ExitCodeException {
    private final int exitCode;

    ContainerFailure(ContainerException cause) {
        super(cause.getMessage(), cause);
        this.exitCode = cause.exitCode();
    }

    @Override
    public int exitCode() {
        return exitCode;
    }
}

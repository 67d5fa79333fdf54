package dev.berth.builder;

import dev.berth.layers.BerthException;

/**
 * The builder's one error type. Its message is one line in the user's terms; errors about a Dockerfile
 * (or a {@code .dockerignore}) start with {@code FILE:LINE: }, the file named as the user gave it, e.g.
 * {@code sub/Dockerfile.dev:7: unknown instruction: COPPY (did you mean COPY?)}.
 */
public class BuildException extends BerthException {
    public BuildException(String message) {
        super(message);
    }

    public BuildException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.berth.registry;

import dev.berth.layers.BerthException;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * An error talking to a registry. The message is one line in the user's terms, ending with the registry's
 * own error code when it sent one ({@code pull docker.io/library/alpine:3.20: manifest unknown
 * (MANIFEST_UNKNOWN)}). {@link #code()} and {@link #status()} let callers decide what to do;
 * {@link #retryable()} says whether trying again later may succeed (network errors, 429, 5xx).
 */
public class RegistryException extends BerthException {
    private final Optional<String> code;
    private final OptionalInt status;
    private final boolean retryable;

    public RegistryException(String message, Optional<String> code, OptionalInt status, boolean retryable,
                             Throwable cause) {
        super(message, cause);
        this.code = code;
        this.status = status;
        this.retryable = retryable;
    }

    /** An error that is berth's own (bad input, a local problem): no code, no status, not retryable. */
    public RegistryException(String message) {
        this(message, Optional.empty(), OptionalInt.empty(), false, null);
    }

    public RegistryException(String message, Throwable cause) {
        this(message, Optional.empty(), OptionalInt.empty(), false, cause);
    }

    /** The registry's error code ({@code MANIFEST_UNKNOWN}, {@code DENIED}, {@code TOOMANYREQUESTS}, ...). */
    public Optional<String> code() {
        return code;
    }

    /** The HTTP status of the response that failed, when there was one. */
    public OptionalInt status() {
        return status;
    }

    /** Whether the same request may succeed later (network trouble, 408, 429, 5xx). */
    public boolean retryable() {
        return retryable;
    }

    /** The same error with what was being done in front: {@code "pull " + ref}. */
    public RegistryException withContext(String context) {
        return new RegistryException(context + ": " + getMessage(), code, status, retryable, this);
    }
}

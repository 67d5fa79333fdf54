package dev.berth.layers;

/**
 * The one error type users see: its message says what failed and why, in the user's terms, and is printed
 * as one line ({@code berth: <message>}). Each module extends it with its own type so callers can tell
 * where an error came from; a stack trace is only shown with {@code --debug}.
 */
public class BerthException extends RuntimeException {
    public BerthException(String message) {
        super(message);
    }

    public BerthException(String message, Throwable cause) {
        super(message, cause);
    }
}

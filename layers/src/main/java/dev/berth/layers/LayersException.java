package dev.berth.layers;

/** An error of the image model, the local store, a layer or an archive. */
public class LayersException extends BerthException {
    public LayersException(String message) {
        super(message);
    }

    public LayersException(String message, Throwable cause) {
        super(message, cause);
    }
}

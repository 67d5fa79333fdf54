package dev.berth.registry.internal;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.Optional;

/**
 * A registry's answer: status, headers, the URI that answered (after redirects), the body as the call's
 * handler read it for a 2xx status, else the first bytes of the error body.
 */
public record Response<T>(int status, HttpHeaders headers, URI uri, Optional<T> body, byte[] errorBody) {
    public boolean ok() {
        return status >= 200 && status < 300;
    }
}

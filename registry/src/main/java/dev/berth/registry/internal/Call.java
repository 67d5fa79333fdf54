package dev.berth.registry.internal;

import dev.berth.registry.Progress;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.ResponseInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One request to a registry and how to treat it: the scopes its token needs, whether it may be retried on
 * a retryable status or a network error (only when sending it twice does no harm), and how to read a
 * successful body.
 *
 * @param uri absolute, or a path ({@code /v2/...}) resolved against the registry's base URL
 * @param onSuccess reads a 2xx body; error bodies are collected separately
 */
public record Call<T>(String method, URI uri, Map<String, String> headers, Optional<Body> body, List<Scope> scopes,
                      boolean authenticate, boolean retryStatus, boolean retryIo,
                      Function<ResponseInfo, BodySubscriber<T>> onSuccess, Progress progress, String what) {

    public Call {
        headers = Map.copyOf(headers);
        scopes = List.copyOf(scopes);
    }

    /** A retryable GET/HEAD whose success body is discarded. */
    public static Call<Void> of(String method, URI uri, List<Scope> scopes, Progress progress, String what) {
        return new Call<>(method, uri, Map.of(), Optional.empty(), scopes, true, true, true,
                info -> HttpResponse.BodySubscribers.discarding(), progress, what);
    }

    public <U> Call<U> reading(Function<ResponseInfo, BodySubscriber<U>> handler) {
        return new Call<>(method, uri, headers, body, scopes, authenticate, retryStatus, retryIo, handler, progress, what);
    }

    public Call<T> header(String name, String value) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new Call<>(method, uri, h, body, scopes, authenticate, retryStatus, retryIo, onSuccess, progress, what);
    }

    public Call<T> body(Body value) {
        return new Call<>(method, uri, headers, Optional.of(value), scopes, authenticate, retryStatus, retryIo,
                onSuccess, progress, what);
    }

    /** Neither a retryable status nor a network error is retried here (the caller has its own recovery). */
    public Call<T> noRetries() {
        return new Call<>(method, uri, headers, body, scopes, authenticate, false, false, onSuccess, progress, what);
    }

    /** Retryable statuses are retried, network errors are left to the caller (a download resumes instead). */
    public Call<T> retryStatusOnly() {
        return new Call<>(method, uri, headers, body, scopes, authenticate, true, false, onSuccess, progress, what);
    }

    public Call<T> anonymous() {
        return new Call<>(method, uri, headers, body, scopes, false, retryStatus, retryIo, onSuccess, progress, what);
    }
}

package dev.berth.builder;

import dev.berth.layers.Digest;
import dev.berth.layers.LayersException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

/** The sources of an {@code ADD} that are URLs: their download, its {@code --checksum}, its file name. */
final class AddUrls {
    private AddUrls() {}

    static boolean isUrl(String s) {
        return s.startsWith("http://") || s.startsWith("https://");
    }

    /** The file name ADD gives a download: the last element of the URL's path, as buildkit does. */
    static String urlName(String url) {
        String path = URI.create(url).getPath();
        String base = path == null ? "" : ContextDir.clean(path);
        base = base.substring(base.lastIndexOf('/') + 1);
        return base.isEmpty() ? "__unnamed__" : base;
    }

    /** Downloads {@code url} into {@code scratch}, checked against {@code expected} when given. */
    static Path download(Path scratch, String url, Optional<String> expected) throws IOException {
        Path f = scratch.resolve("url-" + System.nanoTime());
        HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30)).build();
        try {
            HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw new BuildException("ADD " + url + ": HTTP " + r.statusCode());
                }
                try (OutputStream out = Files.newOutputStream(f)) {
                    in.transferTo(out);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException("ADD " + url + ": interrupted");
        } catch (IllegalArgumentException e) {
            throw new BuildException("ADD " + url + ": invalid URL");
        } catch (IOException e) {
            if (e instanceof java.net.ConnectException || e instanceof java.net.http.HttpConnectTimeoutException) {
                throw new BuildException("ADD " + url + ": cannot connect");
            }
            throw new BuildException("ADD " + url + ": " + e.getMessage());
        }
        if (expected.isPresent()) {
            verify(url, f, expected.get());
        }
        return f;
    }

    static void verify(String url, Path f, String checksum) throws IOException {
        Digest want;
        try {
            want = Digest.parse(checksum);
        } catch (LayersException e) {
            throw new BuildException("ADD --checksum=" + checksum + ": " + e.getMessage());
        }
        MessageDigest md = want.newHasher();
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        if (!want.matches(md.digest())) {
            throw new BuildException("ADD " + url + ": checksum mismatch: expected " + want + ", got "
                    + want.algorithm() + ":" + HexFormat.of().formatHex(hash(f, want.newHasher())));
        }
    }

    private static byte[] hash(Path f, MessageDigest md) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return md.digest();
    }

    static String sha256(Path f) throws IOException {
        return HexFormat.of().formatHex(hash(f, Digest.sha256Hasher()));
    }
}

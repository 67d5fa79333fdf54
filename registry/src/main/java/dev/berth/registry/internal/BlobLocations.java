package dev.berth.registry.internal;

import dev.berth.layers.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers which repositories are known to hold a blob (it was pulled from or pushed to them), so a push
 * to another repository of the same registry can ask for a cross-repository mount instead of uploading.
 * One small file per digest, {@code ALG/HEX}, lines {@code registry/repository}, newest first. A cache:
 * losing or damaging it only costs uploads.
 */
public final class BlobLocations {
    private static final int KEEP = 8;

    private final Optional<Path> dir;
    private final Set<String> written = ConcurrentHashMap.newKeySet();

    public BlobLocations(Optional<Path> dir) {
        this.dir = dir;
    }

    /** Records that {@code registry/repository} holds the blob. */
    public void remember(Digest digest, String registry, String repository) {
        if (dir.isEmpty() || !written.add(digest + " " + registry + "/" + repository)) {
            return;
        }
        Path f = file(digest);
        try {
            Files.createDirectories(f.getParent());
            LinkedHashSet<String> lines = new LinkedHashSet<>();
            lines.add(registry + "/" + repository);
            lines.addAll(read(f));
            List<String> keep = new ArrayList<>(lines).subList(0, Math.min(KEEP, lines.size()));
            Path tmp = Files.createTempFile(f.getParent(), ".loc-", ".tmp");
            Files.writeString(tmp, String.join("\n", keep) + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException ignored) {
            // a cache that cannot be written costs uploads, nothing else
        }
    }

    /** Repositories of {@code registry} known to hold the blob, newest first. */
    public List<String> repositories(Digest digest, String registry) {
        if (dir.isEmpty()) {
            return List.of();
        }
        String prefix = registry + "/";
        return read(file(digest)).stream().filter(l -> l.startsWith(prefix))
                .map(l -> l.substring(prefix.length())).filter(r -> !r.isEmpty()).toList();
    }

    private Path file(Digest digest) {
        return dir.get().resolve("locations").resolve(digest.algorithm()).resolve(digest.hex());
    }

    private static List<String> read(Path f) {
        try {
            return Files.readAllLines(f, StandardCharsets.UTF_8).stream().map(String::trim).filter(s -> !s.isEmpty())
                    .toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            return List.of();
        }
    }
}

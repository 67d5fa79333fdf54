package dev.berth.registry.testing;

import dev.berth.layers.ImageStore;
import dev.berth.registry.CredentialProvider;
import dev.berth.registry.Progress;
import dev.berth.registry.ProgressEvent;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import dev.berth.registry.RetryPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/** Small helpers shared by registry tests. */
public final class Fixtures {
    private Fixtures() {}

    /** Quick retries, so that fault tests take milliseconds per retry, not seconds. */
    public static final RetryPolicy FAST_RETRY =
            new RetryPolicy(6, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(5));

    /** A store under {@code dir} (blobs in {@code dir/store}, temp files in {@code dir/tmp}). */
    public static ImageStore store(Path dir) {
        return ImageStore.open(dir.resolve("store"), dir.resolve("tmp"));
    }

    /** A configuration with no environment, fast retries and a location cache under {@code dir}. */
    public static RegistryConfig.Builder config(Path dir) {
        return RegistryConfig.builder().environment(Map.of("HOME", dir.toString()))
                .cacheDirectory(Optional.of(dir.resolve("cache"))).retry(FAST_RETRY).certDirectories(List.of());
    }

    public static RegistryClient anonymous(RegistryConfig config) {
        return RegistryClient.create(config, CredentialProvider.anonymous());
    }

    /** Records every progress event. */
    public static final class Events implements Progress {
        private final List<ProgressEvent> events = new CopyOnWriteArrayList<>();

        @Override
        public void on(ProgressEvent event) {
            events.add(event);
        }

        public List<ProgressEvent> all() {
            return List.copyOf(events);
        }

        public <T extends ProgressEvent> List<T> of(Class<T> type) {
            return events.stream().filter(type::isInstance).map(type::cast).toList();
        }
    }
}

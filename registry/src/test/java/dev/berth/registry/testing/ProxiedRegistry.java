package dev.berth.registry.testing;

import dev.berth.layers.Reference;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test class's real distribution registry (one per class, open, no auth), reached through a
 * {@link FaultProxy} made anew for each test, which records what berth sends and can break it.
 */
public abstract class ProxiedRegistry {
    @TempDir
    protected static Path shared;
    protected static LocalRegistry registry;
    protected FaultProxy proxy;

    @TempDir
    protected Path tmp;

    @BeforeAll
    static void startRegistry() {
        registry = LocalRegistry.open(shared.resolve("registry"));
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
    }

    @BeforeEach
    void openProxy() {
        proxy = FaultProxy.reverse(registry.uri());
    }

    @AfterEach
    void closeProxy() {
        proxy.close();
    }

    /** A reference on the registry, through the proxy. */
    protected Reference ref(String nameAndTag) {
        return Reference.parse(proxy.host() + "/" + nameAndTag);
    }
}

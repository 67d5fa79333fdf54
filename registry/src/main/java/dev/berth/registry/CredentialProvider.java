package dev.berth.registry;

import java.util.Map;
import java.util.Optional;

/**
 * Where credentials for a registry come from. {@link CredentialStore} reads docker's and podman's files and
 * credential helpers; embedders can supply their own.
 */
@FunctionalInterface
public interface CredentialProvider {

    /**
     * The credentials for {@code registry} ({@code docker.io}, {@code host:port}) when accessing
     * {@code repository}, or empty for anonymous access. Throws {@link RegistryException} when a configured
     * source fails (a credential helper that is missing or errs), rather than silently going anonymous.
     */
    Optional<Credentials> find(String registry, String repository);

    /** No credentials anywhere: every request is anonymous. */
    static CredentialProvider anonymous() {
        return (registry, repository) -> Optional.empty();
    }

    /** Fixed credentials per registry name. */
    static CredentialProvider of(Map<String, Credentials> byRegistry) {
        Map<String, Credentials> copy = Map.copyOf(byRegistry);
        return (registry, repository) -> Optional.ofNullable(copy.get(registry));
    }
}

package dev.berth.registry;

/**
 * What berth can present to a registry. Anonymous access is the absence of credentials
 * ({@code Optional.empty()}), not a value of this type. {@code toString()} never shows a secret.
 */
public sealed interface Credentials {

    /** A user name and password (or personal access token): HTTP Basic, or sent to a token service. */
    record Basic(String username, String password) implements Credentials {
        public Basic {
            if (username.isEmpty()) {
                throw new RegistryException("empty user name");
            }
        }

        @Override
        public String toString() {
            return "Basic[" + username + ", password hidden]";
        }
    }

    /**
     * An OAuth2 refresh token (docker's {@code identitytoken}; a credential helper answering with user
     * {@code <token>}): exchanged at the token service with {@code grant_type=refresh_token}.
     */
    record IdentityToken(String username, String token) implements Credentials {
        @Override
        public String toString() {
            return "IdentityToken[" + username + ", token hidden]";
        }
    }

    /** A bearer token to send as it is (docker's {@code registrytoken}); the token service is not asked. */
    record RegistryToken(String token) implements Credentials {
        @Override
        public String toString() {
            return "RegistryToken[hidden]";
        }
    }
}

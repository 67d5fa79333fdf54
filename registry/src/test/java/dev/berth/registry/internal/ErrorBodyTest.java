package dev.berth.registry.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ErrorBodyTest {
    @Test
    void describesTheRegistrysErrors() {
        ErrorBody b = ErrorBody.parse(("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
                + "\"detail\":{\"Tag\":\"1\"}},{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}")
                .getBytes(UTF_8));
        assertThat(b.firstCode()).contains("MANIFEST_UNKNOWN");
        assertThat(b.describe()).contains("manifest unknown (MANIFEST_UNKNOWN); requested access to the resource is denied (DENIED)");
    }

    @Test
    void codeWithoutMessageAndTokenServiceDetails() {
        assertThat(ErrorBody.parse("{\"errors\":[{\"code\":\"toomanyrequests\"}]}".getBytes(UTF_8)).describe())
                .contains("toomanyrequests (TOOMANYREQUESTS)");
        assertThat(ErrorBody.parse("{\"details\":\"incorrect username or password\"}".getBytes(UTF_8)).describe())
                .contains("incorrect username or password");
    }

    @Test
    void anythingElseHasNoErrors() {
        assertThat(ErrorBody.parse("<html>bad gateway</html>".getBytes(UTF_8)).describe()).isEmpty();
        assertThat(ErrorBody.parse(new byte[0]).firstCode()).isEmpty();
    }
}

package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Normal forms of layer paths: what {@link LayerPath#of} makes of a path, and what the record refuses. */
class LayerPathTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a/b/c|a/b/c", "/a/b|a/b", "./a|a", "a//b|a/b", "a/./b|a/b", "a/b/|a/b", "a/../b|b", "a/b/..|a",
        "/|''", "''|''", ".|''", "./|''", "...|...", "a/.b/..c|a/.b/..c", "a/b/../../c|c", "//a///b//|a/b",
    })
    void normalises(String given, String expected) {
        assertThat(LayerPath.of(given).value()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "../a", "a/../..", "/../etc/passwd"})
    void refusesToLeaveTheRoot(String path) {
        assertThatThrownBy(() -> LayerPath.of(path)).isInstanceOf(LayersException.class)
                .hasMessageContaining("leaves the layer's root");
        assertThat(LayerPath.within(path)).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "..|''", "../a|a", "a/../..|''", "/../etc/passwd|etc/passwd", "a/b/../../../c|c", "/a/./b//|a/b",
    })
    void clampedStaysAtTheRoot(String given, String expected) {
        assertThat(LayerPath.clamped(given).value()).isEqualTo(expected);
        assertThat(LayerPath.clamped(given).components())
                .isEqualTo(expected.isEmpty() ? java.util.List.of() : java.util.List.of(expected.split("/")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "./a"})
    void theRecordTakesOnlyNormalForms(String value) {
        assertThatThrownBy(() -> new LayerPath(value)).isInstanceOf(LayersException.class)
                .hasMessageContaining("invalid layer path");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\0b", "\0"})
    void refusesNulBytes(String value) {
        assertThatThrownBy(() -> LayerPath.of(value)).isInstanceOf(LayersException.class)
                .hasMessageContaining("NUL");
    }
}

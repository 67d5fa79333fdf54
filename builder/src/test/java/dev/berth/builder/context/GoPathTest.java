package dev.berth.builder.context;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GoPathTest {
    @ParameterizedTest(name = "clean({0}) = {1}")
    @CsvSource(delimiter = '|', value = {
        "''|.", "abc|abc", "abc/def|abc/def", ".|.", "..|..", "../..|../..", "../../abc|../../abc", "/abc|/abc", "/|/",
        "abc/|abc", "abc/def/|abc/def", "./|.", "../|..", "/abc/|/abc", "abc//def//ghi|abc/def/ghi", "//abc|/abc",
        "///abc|/abc", "//abc//|/abc", "abc/./def|abc/def", "/./abc/def|/abc/def", "abc/.|abc",
        "abc/def/ghi/../jkl|abc/def/jkl", "abc/def/../ghi/../jkl|abc/jkl", "abc/def/..|abc", "abc/def/../..|.",
        "/abc/def/../..|/", "abc/def/../../..|..", "/abc/def/../../..|/", "abc/def/../../../ghi/jkl/../../../mno|../../mno",
        "/../abc|/abc", "abc/./../def|def", "abc//./../def|def", "abc/../../././../def|../../def", "./a//b/|a/b"})
    void cleansLikeGo(String path, String expected) {
        assertThat(GoPath.clean(path)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "dir({0}) = {1}")
    @CsvSource(delimiter = '|', value = {"a|.", "a/b|a", "a/b/c|a/b", "/a|/", "a/b/|a/b", "a//b|a"})
    void dirLikeGo(String path, String expected) {
        assertThat(GoPath.dir(path)).isEqualTo(expected);
    }
}

package dev.berth.builder.dockerfile;

import java.util.List;

/**
 * Variable expansion as instructions need it; {@link Expander} is the implementation over a
 * {@link ShellLexer} and an environment.
 */
public interface WordExpander {
    /** One word, quotes and escapes processed (most arguments). */
    String word(String word);

    /** A word split into words after expansion (EXPOSE). */
    List<String> words(String word);

    /** A COPY/ADD heredoc body: variables expanded, quotes and backslashes kept as written. */
    String heredoc(String content);
}

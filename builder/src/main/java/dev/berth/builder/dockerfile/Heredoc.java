package dev.berth.builder.dockerfile;

import java.util.Objects;
import java.util.Optional;

/**
 * A here-document attached to a RUN, COPY or ADD line ({@code <<EOF}, {@code <<-EOF}, {@code 3<<EOF},
 * {@code <<"EOF"}).
 *
 * @param name the terminator word with its quotes removed; also the file name of a COPY/ADD source
 * @param fileDescriptor the number written before {@code <<} (0 when none)
 * @param expand false when any part of the word was quoted: the body is then taken literally
 * @param chomp {@code <<-}: leading tabs are removed from every body line (and the terminator line)
 * @param content the body exactly as written, line endings included, tabs not yet removed
 */
public record Heredoc(String name, int fileDescriptor, boolean expand, boolean chomp, String content) {
    public Heredoc {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(content, "content");
    }

    /** The body to use: {@link #content()} with leading tabs removed from each line when {@link #chomp()}. */
    public String body() {
        return chomp ? chompTabs(content) : content;
    }

    /**
     * The heredoc that {@code word} is when it is exactly one marker ({@code <<EOF}, {@code <<-"EOF"}), as
     * BuildKit's {@code ParseHeredoc} judges a RUN's command: then the heredoc is the whole command.
     */
    public static Optional<Heredoc> marker(String word) {
        return Parser.heredocMarker(word);
    }

    /** Removes the tabs at the start of every line, as {@code <<-} does in sh. */
    static String chompTabs(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean lineStart = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (lineStart && c == '\t') {
                continue;
            }
            lineStart = c == '\n';
            out.append(c);
        }
        return out.toString();
    }

    Heredoc withContent(String body) {
        return new Heredoc(name, fileDescriptor, expand, chomp, body);
    }
}

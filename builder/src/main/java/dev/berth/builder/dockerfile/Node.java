package dev.berth.builder.dockerfile;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One instruction as the parser sees it, before any meaning is attached (buildkit's AST node). The
 * arguments are split per instruction family: a JSON array gives one argument per element; shell form
 * RUN/CMD/ENTRYPOINT/SHELL/USER/WORKDIR/... give the rest of the line as one argument; FROM, EXPOSE and
 * non-JSON COPY/ADD/VOLUME split on blanks; ENV and LABEL give (key, value, separator) triples, the separator
 * {@code "="} for {@code k=v} and {@code ""} for the old {@code ENV k v} form, quotes still in the value.
 *
 * @param keyword the instruction name as written ({@code run}, {@code Run}, {@code RUN})
 * @param flags the leading {@code --name[=value]} words, quotes removed
 * @param args the arguments as described above
 * @param subcommand for ONBUILD: the instruction it registers
 * @param json whether the arguments were a JSON array (exec form)
 * @param heredocs the here-documents the line opened, in order
 * @param original the instruction's text with continuations joined (comments and escapes as written)
 * @param startLine the first line (1-based)
 * @param endLine the last line, heredoc bodies included
 */
public record Node(
        String keyword,
        List<String> flags,
        List<String> args,
        Optional<Node> subcommand,
        boolean json,
        List<Heredoc> heredocs,
        String original,
        int startLine,
        int endLine) {

    public Node {
        Objects.requireNonNull(keyword, "keyword");
        flags = List.copyOf(flags);
        args = List.copyOf(args);
        Objects.requireNonNull(subcommand, "subcommand");
        heredocs = List.copyOf(heredocs);
        Objects.requireNonNull(original, "original");
    }

    /** The instruction name in lower case, as instructions are matched. */
    public String name() {
        return GoStrings.toLower(keyword);
    }

    /**
     * buildkit's S-expression dump of this node without the enclosing parentheses: lowercased name, flags
     * as a Go-quoted list, then each argument Go-quoted ({@code run ["--network=none"] "make"}).
     */
    public String dump() {
        StringBuilder s = new StringBuilder(name());
        if (!flags.isEmpty()) {
            s.append(' ').append(GoStrings.quoteList(flags));
        }
        for (String arg : args) {
            s.append(' ').append(GoStrings.quote(arg));
        }
        subcommand.ifPresent(sub -> s.append(" (").append(sub.dump()).append(')'));
        return GoStrings.trimSpace(s.toString());
    }

    Node withLines(int start, int end) {
        return new Node(keyword, flags, args, subcommand, json, heredocs, original, start, end);
    }

    Node withHeredocs(List<Heredoc> docs) {
        return new Node(keyword, flags, args, subcommand, json, docs, original, startLine, endLine);
    }
}

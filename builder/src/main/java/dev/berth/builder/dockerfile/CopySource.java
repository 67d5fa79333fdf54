package dev.berth.builder.dockerfile;

import java.util.Objects;

/** One source of COPY or ADD: a path (or, for ADD, a URL or git reference) or an inline heredoc file. */
public sealed interface CopySource {
    /** A path relative to the build context or to the {@code --from} stage; may hold wildcards. */
    record PathSource(String path) implements CopySource {
        public PathSource {
            Objects.requireNonNull(path, "path");
        }
    }

    /**
     * A file written inline with a heredoc ({@code COPY <<EOF /dest}).
     *
     * @param name the file name (the heredoc's terminator word)
     * @param content the file content, tabs already removed for {@code <<-}
     * @param expand whether variables in the content are expanded (the marker was not quoted)
     */
    record HeredocSource(String name, String content, boolean expand) implements CopySource {
        public HeredocSource {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(content, "content");
        }
    }
}

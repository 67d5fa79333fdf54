package dev.berth.builder.dockerfile;

import dev.berth.builder.BuildException;
import java.util.Objects;

/**
 * Where an instruction sits: the file name as the user gave it and its first and last line (1-based; a
 * continued instruction or one with heredocs spans several lines).
 */
public record Location(String file, int startLine, int endLine) {
    public Location {
        Objects.requireNonNull(file, "file");
        if (startLine < 1 || endLine < startLine) {
            throw new IllegalArgumentException("bad line range " + startLine + "-" + endLine);
        }
    }

    public static Location line(String file, int line) {
        return new Location(file, line, line);
    }

    /** An error about this instruction: {@code FILE:LINE: message}, LINE being the first line. */
    public BuildException error(String message) {
        return new BuildException(file + ":" + startLine + ": " + message);
    }

    @Override
    public String toString() {
        return startLine == endLine ? file + ":" + startLine : file + ":" + startLine + "-" + endLine;
    }
}

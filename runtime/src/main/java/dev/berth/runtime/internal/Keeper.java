package dev.berth.runtime.internal;

import java.nio.file.Path;
import java.util.List;

/**
 * What the helper's monitor needs to keep a detached container ({@code berth run -d}): where its output is
 * logged (docker's json-file format, rotated at {@code logMaxBytes}, 0 for no limit, keeping
 * {@code logFiles} files), where it records how the container ended, the lock it holds while the
 * container runs, and the command it runs afterwards (which records the exit in berth's state).
 */
public record Keeper(Path log, long logMaxBytes, int logFiles, Path exitFile, Path keepLock, List<String> exitCommand) {
    public Keeper {
        exitCommand = List.copyOf(exitCommand);
        if (logFiles < 1 || logMaxBytes < 0) {
            throw new IllegalArgumentException("logFiles >= 1 and logMaxBytes >= 0");
        }
    }
}

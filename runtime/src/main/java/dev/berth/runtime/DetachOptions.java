package dev.berth.runtime;

import java.util.List;

/**
 * {@code berth run -d}: the container outlives the berth that starts it, kept by the helper's monitor (as
 * podman's conmon keeps one), which logs its output in docker's json-file format.
 *
 * @param logMaxBytes {@code --log-opt max-size}: a log file is rotated past this size; 0 for no limit
 * @param logMaxFiles {@code --log-opt max-file}: how many files are kept, the current one included
 * @param exitCommand what the monitor runs once the container has ended, to record that in berth's state
 *     (a berth of the same installation: {@code berth container-cleanup}); empty leaves it to the next
 *     berth that looks
 */
public record DetachOptions(long logMaxBytes, int logMaxFiles, List<String> exitCommand) {
    /** docker's json-file defaults: no rotation. */
    public static final DetachOptions DEFAULT = new DetachOptions(0, 1, List.of());

    public DetachOptions {
        exitCommand = List.copyOf(exitCommand);
        if (logMaxBytes < 0) {
            throw new ContainerException("invalid --log-opt max-size: must not be negative");
        }
        if (logMaxFiles < 1 || logMaxFiles > 100) {
            throw new ContainerException("invalid --log-opt max-file: must be 1 to 100");
        }
    }

    public DetachOptions withExitCommand(List<String> command) {
        return new DetachOptions(logMaxBytes, logMaxFiles, command);
    }

    /**
     * Parses {@code --log-opt} values ({@code max-size=10m}, {@code max-file=3}), as docker's json-file
     * driver takes them; {@code max-file} needs {@code max-size}, as in docker.
     */
    public static DetachOptions parse(List<String> logOpts) {
        long size = 0;
        int files = 1;
        boolean filesGiven = false;
        for (String opt : logOpts) {
            int eq = opt.indexOf('=');
            String key = eq < 0 ? opt : opt.substring(0, eq);
            String value = eq < 0 ? "" : opt.substring(eq + 1);
            switch (key) {
                case "max-size" -> size = value.equals("-1") ? 0 : Resources.parseBytes(value, "--log-opt max-size");
                case "max-file" -> {
                    try {
                        files = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        throw new ContainerException("invalid --log-opt max-file \"" + value + "\": not a number");
                    }
                    filesGiven = true;
                }
                default -> throw new ContainerException("unknown --log-opt \"" + key + "\" (the json-file log takes "
                        + "max-size and max-file)");
            }
        }
        if (filesGiven && files > 1 && size == 0) {
            throw new ContainerException("--log-opt max-file needs max-size, as in docker");
        }
        return new DetachOptions(size, files, List.of());
    }
}

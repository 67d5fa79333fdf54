package dev.berth.runtime.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line that starts a JVM as this one was started, for another berth process to run. */
public final class JvmCommand {
    private JvmCommand() {}

    /**
     * This JVM's java, its options (not those that write files of this run: an AOT cache being recorded, an
     * agent) and its class path, ready for a main class and its arguments.
     */
    public static List<String> current() {
        List<String> cmd = new ArrayList<>();
        ProcessHandle.Info info = ProcessHandle.current().info();
        cmd.add(info.command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : info.arguments().orElse(new String[0])) {
            if (a.equals("-jar") || a.equals("-cp") || a.equals("-classpath") || !a.startsWith("-")) {
                break; // options end here: the class path follows, then the main class and its arguments
            }
            if (!a.startsWith("-XX:AOTCacheOutput") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        List<String> entries = new ArrayList<>(); // absolute: the command may run in another directory
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            entries.add(e.isEmpty() ? e : Path.of(e).toAbsolutePath().toString());
        }
        cmd.add(String.join(java.io.File.pathSeparator, entries));
        return cmd;
    }
}

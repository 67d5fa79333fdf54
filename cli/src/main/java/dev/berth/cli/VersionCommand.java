package dev.berth.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code berth version}: berth's version, the Java runtime it runs on, and the platform. */
@Command(name = "version", description = "Show berth's version.")
final class VersionCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        var out = spec.commandLine().getOut();
        out.println("berth " + version());
        out.println("java " + Runtime.version() + " (" + System.getProperty("java.vendor", "unknown") + ")");
        out.println("platform " + dev.berth.layers.Platform.host());
    }

    /** berth's version, read once (picocli asks for it whenever a subcommand is added). */
    static String version() {
        return Version.VALUE;
    }

    private static final class Version {
        static final String VALUE = read();
    }

    private static String read() {
        try (InputStream in = VersionCommand.class.getResourceAsStream("/berth-version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** For {@code berth --version}. */
    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"berth " + version()};
        }
    }
}

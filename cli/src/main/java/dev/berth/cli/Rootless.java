package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.runtime.IdMaps;
import java.io.PrintWriter;

/** What the commands that run containers tell a user who is not root. */
final class Rootless {
    private Rootless() {}

    /**
     * Warns, once per command, when containers get a user namespace with one id only (no sub-id range, or no
     * newuidmap): root inside is the user, and no other uid or gid exists.
     */
    static void warn(PrintWriter err) {
        if (!BerthHome.isRoot()) {
            IdMaps.forCurrentUser().singleReason().ifPresent(why -> {
                err.println("berth: warning: " + why);
                err.flush();
            });
        }
    }
}

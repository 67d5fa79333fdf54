package dev.berth.cli;

import dev.berth.layers.testing.Tools;
import java.util.ArrayList;
import java.util.List;

/** Runs the peer tools the interop tests use as oracles; a failure fails the test with the tool's output. */
final class Peers {
    private Peers() {}

    /** {@code tool args...}, which must succeed; skopeo without a signature policy (the machine may have none). */
    static Tools.Result run(String tool, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Tools.require(tool).toString()));
        if (tool.equals("skopeo")) {
            cmd.add("--insecure-policy");
        }
        cmd.addAll(List.of(args));
        return Tools.run(cmd).ok();
    }
}

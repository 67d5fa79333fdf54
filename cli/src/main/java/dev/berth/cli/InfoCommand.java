package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.runtime.Cgroups;
import dev.berth.runtime.IdMaps;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code berth info}: how containers run for this user: as root or rootless, the user namespace's maps,
 * how the overlay is mounted, the cgroups and whether limits are available, and where berth keeps its data.
 */
@Command(name = "info", description = "Show how containers run here: root or rootless, id maps, overlay, cgroups.")
final class InfoCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        BerthHome home = Stores.home();
        boolean root = BerthHome.isRoot();
        out.println("home: " + home.root());
        out.println("rootless: " + (root ? "no (root)" : "yes"));
        if (!root) {
            IdMaps maps = IdMaps.forCurrentUser();
            out.println("uid map: " + ranges(maps.uid()));
            out.println("gid map: " + ranges(maps.gid()));
            out.println("id maps written by: " + maps.tools().map(t -> t.get(0) + ", " + t.get(1))
                    .orElse("berth itself (one id)"));
            maps.singleReason().ifPresent(why -> out.println("warning: " + why));
        }
        out.println("kernel: " + read("/proc/sys/kernel/osrelease"));
        out.println("overlay: " + (root ? "trusted.overlay.* xattrs" : "in the user namespace, userxattr (Linux 5.11+)"));
        Cgroups cgroups = Cgroups.forThisProcess(Cgroups.group(home.root()));
        out.println("cgroups: " + switch (cgroups) {
            case Cgroups.None none -> "none: " + none.reason();
            default -> cgroups.version() + (root ? "" : ", delegated (" + cgroups.parents().getFirst().getParent() + ")")
                    + "; limits available: " + limits(cgroups.controllers());
        });
        out.flush();
    }

    private static String limits(java.util.List<String> controllers) {
        java.util.List<String> out = new java.util.ArrayList<>();
        if (controllers.contains("memory")) {
            out.add("--memory");
        }
        if (controllers.contains("cpu")) {
            out.add("--cpus");
        }
        if (controllers.contains("pids")) {
            out.add("--pids-limit");
        }
        return out.isEmpty() ? "none" : String.join(", ", out);
    }

    private static String ranges(java.util.List<IdMaps.Range> ranges) {
        StringBuilder b = new StringBuilder();
        for (IdMaps.Range r : ranges) {
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append(r.inside()).append(r.count() > 1 ? "-" + (r.inside() + r.count() - 1) : "").append(" -> ")
                    .append(r.outside()).append(r.count() > 1 ? "-" + (r.outside() + r.count() - 1) : "");
        }
        return b.toString();
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}

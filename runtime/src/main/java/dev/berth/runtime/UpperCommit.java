package dev.berth.runtime;

import dev.berth.layers.BerthHome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Where a container's upper directory goes when it exits ({@code commitTo}), and the mount points to take out of it first. */
record UpperCommit(MountPoints mountPoints, Path target) {

    /** Moves the exited container's upper directory to {@link #target}, without the runtime's mount points. */
    void apply(ContainerStore.Slot slot, BerthHome home) {
        Path upper = slot.path.resolve("upper");
        try {
            mountPoints.removeFrom(upper, BerthHome.isRoot() ? Files::delete : f -> {
                try {
                    Files.delete(f);
                } catch (java.nio.file.AccessDeniedException e) { // in a directory of a sub-id's
                    UsernsTasks.forCurrentUser(home).delete(List.of(f), "remove mount point " + f);
                }
            });
            Files.move(upper, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new ContainerException("cannot keep the changes of container " + slot.name + " in " + target + ": "
                    + e.getMessage(), e);
        }
    }
}

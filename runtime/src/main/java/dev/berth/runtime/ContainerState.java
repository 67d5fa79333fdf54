package dev.berth.runtime;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What {@code containers/<id>/state.json} records about a container. Times are ISO-8601 strings; cgroups
 * are the directories to remove, so any berth process can clean up after another.
 */
record ContainerState(
        String id,
        String name,
        String image,
        String imageId,
        List<String> command,
        String created,
        ContainerInfo.Status status,
        OptionalLong monitorPid,
        OptionalLong pid,
        OptionalInt exitCode,
        boolean oomKilled,
        Optional<String> finished,
        boolean autoRemove,
        String cgroupVersion,
        List<String> cgroups) {

    ContainerState {
        command = List.copyOf(command);
        cgroups = List.copyOf(cgroups);
        monitorPid = monitorPid == null ? OptionalLong.empty() : monitorPid;
        pid = pid == null ? OptionalLong.empty() : pid;
        exitCode = exitCode == null ? OptionalInt.empty() : exitCode;
        finished = finished == null ? Optional.empty() : finished;
    }

    ContainerState exited(OptionalInt code, boolean oom, String when, ContainerInfo.Status newStatus) {
        return new ContainerState(id, name, image, imageId, command, created, newStatus, monitorPid, pid, code,
                oom, Optional.of(when), autoRemove, cgroupVersion, cgroups);
    }
}

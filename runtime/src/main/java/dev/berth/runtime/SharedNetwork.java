package dev.berth.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code --network container:NAME}: the running container whose network namespace a new one joins, as
 * docker's container network mode: with its host name and its /etc/hosts and /etc/resolv.conf (copied when
 * the new one starts), no ports, host name or name resolution of its own. Rootless, the new container runs
 * in that container's user namespace too (only there may it join a network namespace that namespace owns),
 * so both must have the same {@code --userns}.
 *
 * @param pid the host pid of its PID 1, whose network namespace (and user namespace, rootless) is joined
 */
record SharedNetwork(String id, String name, long pid, Path dir, String hostname) {

    /**
     * The container {@code o} names in {@code --network container:NAME}, checked (for a new container, also
     * that it sets nothing that is that container's); empty for other network modes.
     */
    static Optional<SharedNetwork> of(ContainerStore containers, RunOptions o, String what, boolean again) {
        if (!(o.network() instanceof NetworkMode.Container c)) {
            return Optional.empty();
        }
        String conflict = o.hostname().isPresent() ? "--hostname" : !o.names().hosts().isEmpty() ? "--add-host"
                : !o.names().equals(NameResolution.NONE) ? "--dns" : !o.publish().isEmpty() || o.publishAll() ? "--publish"
                : null;
        if (conflict != null && !again) { // started again: the host name is the one it was given
            throw new ContainerException(what + ": " + conflict + " conflicts with --network container:" + c.nameOrId()
                    + " (the network, its names and its ports are that container's)");
        }
        Path dir = containers.find(c.nameOrId()).orElseThrow(() -> new ContainerException(what
                + ": --network container:" + c.nameOrId() + ": no such container"));
        ContainerState s = containers.read(dir).orElseThrow(() -> new ContainerException(what + ": container "
                + c.nameOrId() + " is still starting"));
        if (!ContainerStore.isRunning(dir) || s.pid().isEmpty()) {
            throw new ContainerException(what + ": --network container:" + c.nameOrId() + ": the container is not running");
        }
        if (!dev.berth.layers.BerthHome.isRoot()) {
            boolean keepId = RunConfig.read(dir, what).map(m -> Boolean.TRUE.equals(m.get("keepId"))).orElse(false);
            if (keepId != o.keepId()) {
                throw new ContainerException(what + ": --network container:" + c.nameOrId() + " shares its user namespace"
                        + " too (rootless): run with the same --userns as it (" + (keepId ? "keep-id" : "the default") + ")");
            }
        }
        String hostname;
        try {
            hostname = Files.readString(dir.resolve("hostname")).strip();
        } catch (IOException e) {
            throw new ContainerException(what + ": --network container:" + c.nameOrId() + ": " + e.getMessage(), e);
        }
        return Optional.of(new SharedNetwork(s.id(), s.name(), s.pid().getAsLong(), dir, hostname));
    }

    /** The options with the container's host name, and its id for its name (as run.json keeps it). */
    RunOptions apply(RunOptions o) {
        return o.toBuilder().hostname(hostname).network(new NetworkMode.Container(id)).build();
    }

    /** Its /etc/hosts and /etc/resolv.conf (and host name) into the new container's directory. */
    void copyEtcFiles(Path into) {
        try {
            for (String f : java.util.List.of("hosts", "hostname", "resolv.conf")) {
                Files.copy(dir.resolve(f), into.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new ContainerException("cannot copy the /etc files of container " + name + ": " + e.getMessage(), e);
        }
    }
}

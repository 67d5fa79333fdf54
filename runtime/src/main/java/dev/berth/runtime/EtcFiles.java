package dev.berth.runtime;

import dev.berth.layers.LayerExtractor;
import dev.berth.runtime.ContainerSpec.Mount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A container's {@code /etc/hosts}, {@code /etc/hostname} and {@code /etc/resolv.conf}, as docker makes
 * them: written into the container's directory and bind-mounted over the image's (or into a bundle's
 * rootfs), never into the image's layers.
 */
final class EtcFiles {
    private EtcFiles() {}

    /** Writes the /etc files into a bundle's rootfs, where no symlink leads them out of it. */
    static void writeIntoRootfs(Path rootfs, String hostname, NetworkMode network, NameResolution names)
            throws IOException {
        Path etc = rootfs.resolve("etc");
        if (Files.isSymbolicLink(etc)) {
            return;
        }
        Files.createDirectories(etc);
        Path staging = Files.createTempDirectory(rootfs.getParent(), ".etc");
        try {
            write(staging, hostname, network, names);
            for (String f : List.of("hosts", "hostname", "resolv.conf")) {
                if (!Files.isSymbolicLink(etc.resolve(f))) {
                    Files.copy(staging.resolve(f), etc.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } finally {
            LayerExtractor.deleteTree(staging);
        }
    }


    /** The bind mounts of those files, written by {@link #write} into {@code container}'s directory. */
    static List<Mount> mounts(Path container) {
        List<Mount> out = new ArrayList<>();
        for (String f : List.of("hosts", "hostname", "resolv.conf")) {
            out.add(new Mount("/etc/" + f, "bind", container.resolve(f).toString(), List.of("rbind", "rprivate")));
        }
        return out;
    }

    /** /etc/hosts, /etc/hostname and /etc/resolv.conf for the container, as docker writes them. */
    static void write(Path dir, String hostname, NetworkMode network, NameResolution names) {
        try {
            String hosts;
            if (network.equals(NetworkMode.HOST) && Files.isReadable(Path.of("/etc/hosts"))) {
                hosts = Files.readString(Path.of("/etc/hosts"));
                if (!hostname.equals(hostHostname())) { // a name of its own: it must resolve, as in docker
                    hosts = (hosts.isEmpty() || hosts.endsWith("\n") ? hosts : hosts + "\n") + "127.0.1.1\t" + hostname
                            + "\n";
                }
            } else {
                hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                        + "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
                        + "127.0.1.1\t" + hostname + "\n";
            }
            for (String line : names.hosts()) {
                hosts = (hosts.isEmpty() || hosts.endsWith("\n") ? hosts : hosts + "\n") + line + "\n";
            }
            Files.writeString(dir.resolve("hosts"), hosts);
            Files.writeString(dir.resolve("hostname"), hostname + "\n");
            Path resolv = Path.of("/etc/resolv.conf");
            Files.writeString(dir.resolve("resolv.conf"), names.resolvConf(Files.isReadable(resolv)
                    ? Files.readString(resolv) : ""));
        } catch (IOException e) {
            throw new ContainerException("cannot write the container's /etc files in " + dir + ": " + e.getMessage(), e);
        }
    }


    /** This machine's hostname. */
    static String hostHostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            return "localhost";
        }
    }
}

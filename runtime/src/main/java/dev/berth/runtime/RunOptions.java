package dev.berth.runtime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What {@code berth run} was asked for, before it is resolved against the image. Fields mirror
 * {@code docker run}'s options of the same names; {@link #builder()} makes one.
 *
 * @param env {@code -e} values: {@code K=V}, or {@code K} to take K from berth's own environment
 * @param entrypoint {@code --entrypoint}: replaces the image's ENTRYPOINT and drops its CMD; "" means none
 * @param command the COMMAND and ARGs after the image; empty means the image's CMD
 * @param overlayMode how layers are passed to overlayfs (see {@link OverlayMode}); AUTO unless testing
 * @param noPivot use MS_MOVE + chroot instead of pivot_root (for roots that cannot be pivoted)
 * @param mounts mounts beyond the volumes, mounted after them in this order
 * @param noNewPrivileges set {@code no_new_privs}, so setuid programs gain nothing ({@code berth run} does;
 *     a build's RUN does not, as in docker, where {@code su} and {@code sudo} work in RUN)
 * @param commitTo where the container's upper directory goes when it exits (a path that does not exist, on
 *     the file system of berth's home): its changes as overlay whiteouts and opaque directories, a complete
 *     diff (no metacopy, no redirects), without the mount points the runtime created. Empty: it is deleted
 *     with the container or kept in it.
 * @param detach {@code -d}: the container outlives this berth, kept by the helper's monitor, its output in
 *     its log; empty: it ends with berth (see {@link DetachOptions})
 * @param keepId rootless only ({@code --userns=keep-id}): the user's uid and gid are the same inside, and the
 *     command runs as them unless {@code user} says otherwise (see {@link IdMaps#keepId()})
 * @param publish {@code -p}: host ports relayed to the container's loopback (with a network of its own)
 * @param publishAll {@code -P}: also every port the image exposes that {@code publish} does not, on any
 *     free host port
 * @param names {@code --add-host} and {@code --dns*}: extra lines of /etc/hosts, resolv.conf's replacements
 * @param seccomp {@code --security-opt seccomp=}: berth's default profile unless told otherwise (a build's
 *     RUN too, as BuildKit's)
 */
public record RunOptions(
        Optional<String> name,
        boolean remove,
        List<String> env,
        List<Path> envFiles,
        Optional<String> workdir,
        Optional<String> user,
        Optional<String> entrypoint,
        Optional<String> hostname,
        List<Volume> volumes,
        boolean readOnly,
        NetworkMode network,
        Resources resources,
        boolean init,
        boolean tty,
        boolean interactive,
        List<String> command,
        Stdio stdin,
        Stdio stdout,
        Stdio stderr,
        OverlayMode overlayMode,
        boolean noPivot,
        List<ContainerMount> mounts,
        boolean noNewPrivileges,
        Optional<Path> commitTo,
        boolean keepId,
        Optional<DetachOptions> detach,
        List<PortMapping> publish,
        boolean publishAll,
        NameResolution names,
        Seccomp seccomp) {

    public RunOptions {
        publish = List.copyOf(publish);
        env = List.copyOf(env);
        envFiles = List.copyOf(envFiles);
        volumes = List.copyOf(volumes);
        command = List.copyOf(command);
        mounts = List.copyOf(mounts);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.remove = remove;
        b.env = new ArrayList<>(env);
        b.envFiles = new ArrayList<>(envFiles);
        b.workdir = workdir;
        b.user = user;
        b.entrypoint = entrypoint;
        b.hostname = hostname;
        b.volumes = new ArrayList<>(volumes);
        b.readOnly = readOnly;
        b.network = network;
        b.resources = resources;
        b.init = init;
        b.tty = tty;
        b.interactive = interactive;
        b.command = new ArrayList<>(command);
        b.stdin = Optional.of(stdin);
        b.stdout = stdout;
        b.stderr = stderr;
        b.overlayMode = overlayMode;
        b.noPivot = noPivot;
        b.mounts = new ArrayList<>(mounts);
        b.noNewPrivileges = noNewPrivileges;
        b.commitTo = commitTo;
        b.keepId = keepId;
        b.detach = detach;
        b.publish = new ArrayList<>(publish);
        b.publishAll = publishAll;
        b.names = names;
        b.seccomp = seccomp;
        return b;
    }

    /** Collects options; stdin defaults to /dev/null, or to berth's own stdin with {@link #interactive}. */
    public static final class Builder {
        private Optional<String> name = Optional.empty();
        private boolean remove;
        private List<String> env = new ArrayList<>();
        private List<Path> envFiles = new ArrayList<>();
        private Optional<String> workdir = Optional.empty();
        private Optional<String> user = Optional.empty();
        private Optional<String> entrypoint = Optional.empty();
        private Optional<String> hostname = Optional.empty();
        private List<Volume> volumes = new ArrayList<>();
        private boolean readOnly;
        private NetworkMode network = NetworkMode.NONE;
        private Resources resources = Resources.NONE;
        private boolean init;
        private boolean tty;
        private boolean interactive;
        private List<String> command = new ArrayList<>();
        private Optional<Stdio> stdin = Optional.empty();
        private Stdio stdout = Stdio.INHERIT;
        private Stdio stderr = Stdio.INHERIT;
        private OverlayMode overlayMode = OverlayMode.AUTO;
        private boolean noPivot;
        private List<ContainerMount> mounts = new ArrayList<>();
        private boolean noNewPrivileges = true;
        private Optional<Path> commitTo = Optional.empty();
        private boolean keepId;
        private Optional<DetachOptions> detach = Optional.empty();
        private List<PortMapping> publish = new ArrayList<>();
        private boolean publishAll;
        private NameResolution names = NameResolution.NONE;
        private Seccomp seccomp = Seccomp.BUILTIN;

        private Builder() {}

        public Builder name(String v) { name = Optional.of(v); return this; }
        public Builder remove(boolean v) { remove = v; return this; }
        public Builder env(String v) { env.add(v); return this; }
        public Builder env(List<String> v) { env.addAll(v); return this; }
        public Builder envFile(Path v) { envFiles.add(v); return this; }
        public Builder workdir(String v) { workdir = Optional.of(v); return this; }
        public Builder user(String v) { user = Optional.of(v); return this; }
        public Builder entrypoint(String v) { entrypoint = Optional.of(v); return this; }
        public Builder hostname(String v) { hostname = Optional.of(v); return this; }
        public Builder volume(Volume v) { volumes.add(v); return this; }
        public Builder readOnly(boolean v) { readOnly = v; return this; }
        public Builder network(NetworkMode v) { network = v; return this; }
        public Builder resources(Resources v) { resources = v; return this; }
        public Builder init(boolean v) { init = v; return this; }
        public Builder tty(boolean v) { tty = v; return this; }
        public Builder interactive(boolean v) { interactive = v; return this; }
        public Builder command(List<String> v) { command = new ArrayList<>(v); return this; }
        public Builder command(String... v) { return command(List.of(v)); }
        public Builder stdin(Stdio v) { stdin = Optional.of(v); return this; }
        public Builder stdout(Stdio v) { stdout = v; return this; }
        public Builder stderr(Stdio v) { stderr = v; return this; }
        public Builder overlayMode(OverlayMode v) { overlayMode = v; return this; }
        public Builder noPivot(boolean v) { noPivot = v; return this; }
        public Builder mount(ContainerMount v) { mounts.add(v); return this; }
        public Builder noNewPrivileges(boolean v) { noNewPrivileges = v; return this; }
        public Builder commitTo(Path v) { commitTo = Optional.of(v); return this; }
        public Builder keepId(boolean v) { keepId = v; return this; }
        public Builder detach(DetachOptions v) { detach = Optional.of(v); return this; }
        public Builder publish(List<PortMapping> v) { publish.addAll(v); return this; }
        public Builder publishAll(boolean v) { publishAll = v; return this; }
        public Builder names(NameResolution v) { names = v; return this; }
        public Builder seccomp(Seccomp v) { seccomp = v; return this; }

        public RunOptions build() {
            return new RunOptions(name, remove, env, envFiles, workdir, user, entrypoint, hostname, volumes,
                    readOnly, network, resources, init, tty, interactive, command,
                    stdin.orElse(interactive ? Stdio.INHERIT : Stdio.NULL), stdout, stderr, overlayMode, noPivot,
                    mounts, noNewPrivileges, commitTo, keepId, detach, publish, publishAll, names, seccomp);
        }
    }
}

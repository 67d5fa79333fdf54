package dev.berth.builder;

import dev.berth.builder.dockerfile.Instruction;
import dev.berth.layers.ContainerConfig;
import java.util.List;
import java.util.Optional;

/**
 * WORKDIR: sets the working directory (relative to the previous one) and, as buildkit does, creates it in
 * a layer when the image lacks it (owned by USER when one is set); no layer when it exists. The layer is
 * keyed by the layers below, the directory, the user, the layer time and the compression.
 */
final class WorkdirStep {
    private WorkdirStep() {}

    /** Runs the instruction (expanded); returns whether its layer came from the cache. */
    static boolean run(BuildRun run, StageState s, Instruction.Workdir w) {
        String previous = s.workdir();
        String wd = "/" + ContextDir.clean(w.path().startsWith("/") ? w.path() : previous + "/" + w.path());
        ContainerConfig.Builder c = s.config.containerConfig().toBuilder();
        c.workingDir = Optional.of(wd);
        s.set(c);
        String createdBy = "WORKDIR " + wd;
        if (wd.equals("/")) {
            run.layers().history(s, createdBy);
            return false;
        }
        Optional<String> user = s.config.containerConfig().user().filter(u -> !u.isEmpty());
        String key = BuildCache.sha256(String.join("\n", "berth-step-v1", BuildCache.chainKey(s.diffIds()), "WORKDIR",
                wd, "user=" + user.orElse(""), "time=" + run.layerTime().getEpochSecond(), run.layers().compressionKey()));
        BuildCache cache = run.cache();
        if (!run.request().noCache()) {
            Optional<BuildCache.Result> hit = cache.lookup(key, List.of());
            if (hit.isPresent() && hit.get().blob().map(run.store()::has).orElse(true)) {
                run.layers().apply(s, hit.get(), createdBy);
                run.caches().record(s, key, hit.get());
                return true;
            }
            Optional<BuildCache.Result> remote = run.caches().lookup(s, key);
            if (remote.isPresent()) {
                run.layers().apply(s, remote.get(), createdBy);
                cache.store(key, remote.get(), List.of());
                run.caches().record(s, key, remote.get());
                return true;
            }
        }
        String path = s.fs.resolve(ContextDir.clean(wd), true);
        if (s.fs.isDirectory(path)) {
            run.layers().history(s, createdBy);
            cache.store(key, BuildCache.Result.noLayer(List.of()), List.of());
            run.caches().record(s, key, BuildCache.Result.noLayer(List.of()));
            return false;
        }
        Optional<Users.Ids> owner = user.map(u -> Users.resolve(u, s.fs, w.location().file() + ":"
                + w.location().startLine() + ": WORKDIR " + wd + ": USER " + u));
        CopyPlan plan = new CopyPlan(s.fs, false, owner, Optional.empty(), run.scratch());
        try {
            plan.mkdirAll(path);
        } catch (BuildException e) {
            throw w.location().error(e.getMessage());
        }
        plan.fillParents();
        BuildCache.Result r = run.layers().writeLayer(s, plan.entries(), createdBy, List.of());
        cache.store(key, r, List.of());
        run.caches().record(s, key, r);
        return false;
    }
}

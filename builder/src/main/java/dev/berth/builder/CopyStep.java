package dev.berth.builder;

import dev.berth.builder.context.DockerIgnore;
import dev.berth.builder.dockerfile.CopySource;
import dev.berth.builder.dockerfile.ImageSource;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.Location;
import dev.berth.layers.Digest;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayersException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One COPY or ADD: finds its sources, looks its layer up in the cache, and otherwise plans the layer's
 * entries ({@link CopyPlan}) and writes it.
 *
 * <p>The order matters for speed: sources in the context are found and stat'ed first (one {@code lstat}
 * each), which is all a no-change rebuild needs; the image below is read (layer headers) only when the
 * layer has to be planned.
 */
final class CopyStep {
    /** A context source after wildcard expansion and symlink resolution. */
    private record Match(String name, String resolved, ContextDir.Stat stat, List<ContextDir.Item> below,
                         String relToPivot, boolean wildcard, String relToBase) {}

    private final BuildRun run;
    private final StageState stage;
    private final Location at;
    private final boolean add;
    private final List<CopySource> sources;
    private final String destination;
    private final Optional<String> chown;
    private final Optional<String> chmodText;
    private final boolean link;
    private final List<String> excludes;
    private final boolean parents;
    private final Optional<Instruction.Copy> copy;
    private final Optional<String> checksum;
    private final Optional<Boolean> unpack;

    CopyStep(BuildRun run, StageState stage, Instruction.Copy c) {
        this.run = run;
        this.stage = stage;
        this.at = c.location();
        this.add = false;
        this.sources = c.sources();
        this.destination = c.destination();
        this.chown = c.chown();
        this.chmodText = c.chmod();
        this.link = c.link();
        this.excludes = c.excludes();
        this.parents = c.parents();
        this.copy = Optional.of(c);
        this.checksum = Optional.empty();
        this.unpack = Optional.empty();
    }

    CopyStep(BuildRun run, StageState stage, Instruction.Add a) {
        this.run = run;
        this.stage = stage;
        this.at = a.location();
        this.add = true;
        this.sources = a.sources();
        this.destination = a.destination();
        this.chown = a.chown();
        this.chmodText = a.chmod();
        this.link = a.link();
        this.excludes = a.excludes();
        this.parents = false;
        this.copy = Optional.empty();
        this.checksum = a.checksum();
        this.unpack = a.unpack();
    }

    private String keyword() {
        return add ? "ADD" : "COPY";
    }

    /** Runs the step; returns whether the layer came from the cache. */
    boolean run() {
        try {
            return runUnlocated();
        } catch (BuildException e) {
            String prefix = at.file() + ":";
            throw e.getMessage().startsWith(prefix) ? e : at.error(e.getMessage());
        } catch (LayersException e) {
            throw at.error(e.getMessage());
        } catch (IOException e) {
            throw at.error(keyword() + ": " + e.getMessage());
        }
    }

    private boolean runUnlocated() throws IOException {
        Optional<Chmod> chmod = chmodText.map(Chmod::parse);
        List<String> urls = sources.stream().filter(s -> s instanceof CopySource.PathSource p && AddUrls.isUrl(p.path()))
                .map(s -> ((CopySource.PathSource) s).path()).toList();
        if (!add && !urls.isEmpty()) {
            throw new BuildException("source can't be a URL for COPY: " + urls.getFirst());
        }
        if (checksum.isPresent() && (urls.size() != 1 || sources.size() != 1)) {
            throw new BuildException("ADD --checksum needs exactly one http(s) source");
        }
        boolean destDir = destination.endsWith("/") || destination.endsWith("/.") || destination.equals(".")
                || destination.isEmpty() || parents;
        if (sources.size() > 1 && !destDir) {
            throw new BuildException("When using " + keyword() + " with more than one source file, the destination "
                    + "must be a directory and end with a /");
        }
        String workdir = stage.workdir();
        String absDest = destination.startsWith("/") ? destination : workdir + "/" + destination;

        // The sources: where they come from and what the cache key says about them.
        Optional<ImageSource> origin = copy.flatMap(c -> run.stages().copySource(c));
        ImageFs fromFs = null;
        String fromKey = "context";
        if (origin.isPresent()) {
            switch (origin.get()) {
                case ImageSource.FromStage(int index) -> {
                    StageState src = run.stageResult(index, at);
                    fromFs = src.fs;
                    fromKey = "stage " + BuildCache.chainKey(src.diffIds());
                }
                case ImageSource.External(String name) -> {
                    fromFs = run.imageFs(name, stage, at);
                    fromKey = "image " + BuildCache.chainKey(fromFs.layers().stream().map(ImageFs.Layer::diffId).toList());
                }
                case ImageSource.Scratch s -> throw new BuildException("cannot copy from scratch");
            }
        }
        List<String> keyParts = new ArrayList<>(List.of("berth-step-v1", keyword(), "dest=" + absDest + (destDir ? "/" : ""),
                "chown=" + chown.orElse(""), "chmod=" + chmodText.orElse(""), "link=" + link, "parents=" + parents,
                "exclude=" + excludes, "unpack=" + unpack.map(String::valueOf).orElse(""), "from=" + fromKey,
                "time=" + run.layerTime().getEpochSecond(), run.layers().compressionKey()));
        keyParts.add(link ? "below=link" : "below=" + BuildCache.chainKey(stage.diffIds()));
        List<Match> matches = new ArrayList<>();
        List<ContextDir.Item> snapshot = new ArrayList<>();
        Map<String, Path> downloads = new LinkedHashMap<>();
        for (CopySource src : sources) {
            switch (src) {
                case CopySource.HeredocSource h -> keyParts.add("heredoc " + h.name() + " "
                        + BuildCache.sha256(h.content()));
                case CopySource.PathSource p when AddUrls.isUrl(p.path()) -> {
                    if (checksum.isPresent()) {
                        keyParts.add("url " + p.path() + " " + checksum.get());
                    } else {
                        Path f = AddUrls.download(run.scratch(), p.path(), Optional.empty());
                        downloads.put(p.path(), f);
                        keyParts.add("url " + p.path() + " " + AddUrls.sha256(f));
                    }
                }
                case CopySource.PathSource p -> {
                    keyParts.add("src " + p.path());
                    if (fromFs == null) {
                        matches.addAll(contextMatches(p.path(), snapshot));
                    }
                }
            }
        }
        if (link && chown.isPresent() && !numericOwner(chown.get())) {
            keyParts.add("owner=" + Users.resolve(chown.get(), stage.fs, keyword() + " --chown=" + chown.get()));
        }
        String key = BuildCache.sha256(String.join("\n", keyParts));
        // Other machines' caches know the step by a portable key: without context sources the key itself (it
        // holds a stage's or image's diff_ids, a heredoc's text, a download's digest), else the key and the
        // digest of the sources' content, so a lookup reads neither stats nor the layers below.
        java.util.function.Supplier<String> content = sourcesDigest(key, snapshot);
        java.util.function.Supplier<String> portable = snapshot.isEmpty() ? () -> key
                : () -> BuildCache.portableKey(key, content.get());
        String createdBy = createdBy();
        BuildCache cache = run.cache();
        boolean useCache = !run.request().noCache();
        if (useCache) {
            Optional<BuildCache.Result> hit = cache.lookup(key, snapshot);
            if (hit.isPresent() && hit.get().blob().map(run.store()::has).orElse(false)) {
                run.layers().apply(stage, hit.get(), createdBy);
                run.caches().record(stage, portable, hit.get());
                return true;
            }
            if (!snapshot.isEmpty()) {
                // Stats changed (a touch, a fresh clone): the files that changed are read, and the same
                // content is the same layer, made before by this machine.
                Optional<BuildCache.Result> same = cache.lookupContent(key, content.get())
                        .filter(r -> r.blob().map(run.store()::has).orElse(false));
                if (same.isPresent()) {
                    run.layers().apply(stage, same.get(), createdBy);
                    cache.store(key, same.get(), snapshot);
                    run.caches().record(stage, portable, same.get());
                    return true;
                }
            }
            Optional<BuildCache.Result> remote = run.caches().reading() ? run.caches().lookup(stage, portable.get()) : Optional.empty();
            if (remote.isPresent()) {
                run.layers().apply(stage, remote.get(), createdBy);
                cache.store(key, remote.get(), snapshot);
                run.caches().record(stage, portable, remote.get());
                return true;
            }
        }

        // A miss: plan the layer (the compressor loads meanwhile).
        run.request().compression().prepare();
        ImageFs below = stage.fs;
        Optional<Users.Ids> owner = chown.map(spec -> Users.resolve(spec, below, keyword() + " --chown=" + spec));
        CopyPlan plan = new CopyPlan(below, link, owner, chmod, run.scratch());
        String dest = plan.resolve(absDest);
        plan.mkdirAll(destDir ? dest : CopyPlan.parentOf(dest));
        DockerIgnore exclude = excludes.isEmpty() ? DockerIgnore.none() : DockerIgnore.of(excludes);
        int items = 0;
        for (CopySource src : sources) {
            switch (src) {
                case CopySource.HeredocSource h -> {
                    items++;
                    CopyPlan.Source s = new CopyPlan.Source("", 'f', 0644, 0, 0, "", Optional.empty(), 0, 0,
                            h.content().getBytes(StandardCharsets.UTF_8));
                    plan.copy(s, List.of(), fileTarget(plan, dest, destDir, h.name()), exclude);
                }
                case CopySource.PathSource p when AddUrls.isUrl(p.path()) -> {
                    items++;
                    Path f = downloads.containsKey(p.path()) ? downloads.get(p.path()) : AddUrls.download(run.scratch(), p.path(), checksum);
                    if (checksum.isPresent()) {
                        AddUrls.verify(p.path(), f, checksum.get());
                    }
                    if (unpack.orElse(false) && Archives.isArchive(f)) {
                        extract(plan, f, p.path(), dest, owner);
                    } else {
                        CopyPlan.Source s = new CopyPlan.Source("", 'f', 0600, 0, 0, "", Optional.empty(), 0, 0, f);
                        plan.copy(s, List.of(), fileTarget(plan, dest, destDir, AddUrls.urlName(p.path())), exclude);
                    }
                }
                case CopySource.PathSource p -> { }
            }
        }
        if (fromFs != null) {
            plan.sourceImage(fromFs);
            for (CopySource src : sources) {
                if (src instanceof CopySource.PathSource p) {
                    items += copyFromImage(plan, fromFs, p.path(), dest, destDir, exclude);
                }
            }
        } else {
            if (matches.size() + items > 1 && !destDir && !plan.isDirectory(dest)) {
                throw new BuildException("When using " + keyword() + " with more than one source file, the "
                        + "destination must be a directory and end with a /");
            }
            for (Match m : matches) {
                copyFromContext(plan, m, dest, destDir, exclude, owner);
            }
        }
        plan.extract();
        plan.fillParents();
        List<String> warnings = plan.elfWarnings();
        warnings.forEach(run::warning);

        BuildCache.Result r = run.layers().writeLayer(stage, plan.entries(), createdBy, warnings, cache.previousBlob(key));
        cache.store(key, r, snapshot);
        if (!snapshot.isEmpty() && useCache) {
            cache.storeContent(key, content.get(), r); // and the sources' digests, for the next build's stats
        }
        run.caches().record(stage, portable, r);
        return false;
    }

    /**
     * The content digest of the step's context sources ({@link SourceDigests}), made when first asked:
     * recorded digests for files whose stats are unchanged, the others read.
     */
    private java.util.function.Supplier<String> sourcesDigest(String key, List<ContextDir.Item> snapshot) {
        String[] made = new String[1];
        return () -> {
            if (made[0] == null) {
                try {
                    made[0] = SourceDigests.digest(run.cache(), key, snapshot, run.context());
                } catch (java.io.IOException e) {
                    throw at.error(keyword() + ": cannot read " + e.getMessage());
                }
            }
            return made[0];
        };
    }

    /** The history text, as buildkit writes it: flags that change the files, sources, destination. */
    private String createdBy() {
        StringBuilder b = new StringBuilder(keyword());
        if (parents) {
            b.append(" --parents");
        }
        chown.ifPresent(c -> b.append(" --chown=").append(c));
        chmodText.ifPresent(c -> b.append(" --chmod=").append(c));
        for (CopySource s : sources) {
            switch (s) {
                case CopySource.PathSource p -> b.append(' ').append(p.path());
                case CopySource.HeredocSource h -> b.append(" <<").append(h.name());
            }
        }
        return b.append(' ').append(destination).toString();
    }

    private static boolean numericOwner(String spec) {
        return spec.matches("[0-9]+(:[0-9]+)?");
    }

    private static String fileTarget(CopyPlan plan, String dest, boolean destDir, String name) {
        return destDir || plan.isDirectory(dest) ? join(dest, name) : dest;
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : b.isEmpty() ? a : a + "/" + b;
    }

    // ---------------------------------------------------------------- the context

    /** The matches of one source in the context, each stat'ed and walked; adds every item to {@code snapshot}. */
    private List<Match> contextMatches(String source, List<ContextDir.Item> snapshot) {
        ContextDir ctx = run.context();
        String pivot = "";
        String pattern = source;
        if (parents) {
            int cut = source.indexOf("/./");
            if (cut >= 0) {
                pivot = ContextDir.clean(source.substring(0, cut));
                pattern = source.substring(cut + 3);
            }
        }
        String full = ContextDir.clean(pivot.isEmpty() ? pattern : pivot + "/" + pattern);
        boolean wildcard = ContextDir.hasWildcards(full);
        List<String> names;
        String base = "";
        if (wildcard) {
            names = ctx.glob(full);
            List<String> parts = List.of(full.split("/"));
            int first = 0;
            while (first < parts.size() && !ContextDir.hasWildcards(parts.get(first))) {
                first++;
            }
            base = ctx.resolve(String.join("/", parts.subList(0, first)), true);
            if (names.isEmpty()) {
                run.warning(at.file() + ":" + at.startLine() + ": " + keyword() + " source \"" + source
                        + "\" matches no files in the build context");
            }
        } else {
            names = List.of(full);
        }
        String pivotResolved = ctx.resolve(pivot, true);
        List<Match> out = new ArrayList<>();
        for (String name : names) {
            String resolved = ctx.resolve(name, true);
            Optional<ContextDir.Stat> st = ctx.lstat(resolved);
            if (st.isEmpty() || ctx.excluded(resolved)) {
                throw new BuildException(keyword() + " source \"" + source + "\" not found in build context"
                        + (st.isPresent() ? " (excluded by .dockerignore)" : ""));
            }
            List<ContextDir.Item> below = st.get().isDirectory() ? ctx.walk(resolved) : List.of();
            snapshot.add(new ContextDir.Item(resolved, st.get()));
            snapshot.addAll(below);
            String relToPivot = pivotResolved.isEmpty() ? name
                    : name.startsWith(pivotResolved + "/") ? name.substring(pivotResolved.length() + 1) : name;
            String relToBase = base.isEmpty() ? name : name.startsWith(base + "/") ? name.substring(base.length() + 1) : name;
            out.add(new Match(name, resolved, st.get(), below, relToPivot, wildcard, relToBase));
        }
        return out;
    }

    private void copyFromContext(CopyPlan plan, Match m, String dest, boolean destDir, DockerIgnore exclude,
                                 Optional<Users.Ids> owner) throws IOException {
        ContextDir ctx = run.context();
        if (m.wildcard() && !exclude.isEmpty() && exclude.excludes(m.relToBase())) {
            return;
        }
        CopyPlan.Source top = CopyPlan.fromContext(ctx, m.resolved(), "", m.stat());
        if (top == null) {
            return;
        }
        if (add && top.type() == 'f' && unpack.orElse(true) && Archives.isArchive(ctx.file(m.resolved()))) {
            extract(plan, ctx.file(m.resolved()), m.name(), dest, owner);
            return;
        }
        List<CopyPlan.Source> below = new ArrayList<>(m.below().size());
        String prefix = m.resolved().isEmpty() ? "" : m.resolved() + "/";
        for (ContextDir.Item item : m.below()) {
            CopyPlan.Source s = CopyPlan.fromContext(ctx, item.rel(), item.rel().substring(prefix.length()), item.stat());
            if (s != null) {
                below.add(s);
            }
        }
        if (parents) {
            List<CopyPlan.Source> dirs = new ArrayList<>();
            String rel = m.relToPivot();
            String pivotPath = m.name().endsWith(rel) ? m.name().substring(0, m.name().length() - rel.length()) : "";
            String[] parts = rel.split("/");
            StringBuilder p = new StringBuilder();
            for (int i = 0; i < parts.length - 1; i++) {
                p.append(i == 0 ? "" : "/").append(parts[i]);
                String src = ContextDir.clean(pivotPath + p);
                Optional<ContextDir.Stat> st = ctx.lstat(src);
                if (st.isPresent() && st.get().isDirectory()) {
                    dirs.add(CopyPlan.fromContext(ctx, src, p.toString(), st.get()));
                }
            }
            plan.parentDirectories(dirs, dest);
            plan.copy(top, below, join(dest, rel), exclude);
            return;
        }
        String target = top.type() == 'd' ? dest : fileTarget(plan, dest, destDir, CopyPlan.baseName(m.name()));
        plan.copy(top, below, target, exclude);
    }

    private void extract(CopyPlan plan, Path archive, String name, String dest, Optional<Users.Ids> owner)
            throws IOException {
        plan.mkdirAll(dest);
        Map<LayerPath, LayerEntry> entries = new LinkedHashMap<>();
        Archives.extract(archive, name, dest.isEmpty() ? LayerPath.ROOT : new LayerPath(dest), owner, run.scratch(), entries);
        plan.putAll(entries);
    }

    // ---------------------------------------------------------------- a stage or an image

    private int copyFromImage(CopyPlan plan, ImageFs from, String source, String dest, boolean destDir,
                              DockerIgnore exclude) {
        String full = ContextDir.clean(source);
        List<String> names = ContextDir.hasWildcards(full) ? from.glob(full) : List.of(full);
        if (names.isEmpty()) {
            run.warning(at.file() + ":" + at.startLine() + ": " + keyword() + " source \"" + source
                    + "\" matches no files in the source image");
        }
        if (names.size() > 1 && !destDir && !plan.isDirectory(dest)) {
            throw new BuildException("When using " + keyword() + " with more than one source file, the destination "
                    + "must be a directory and end with a /");
        }
        for (String name : names) {
            String resolved = from.resolve(name, true);
            Optional<ImageFs.Node> n = resolved.isEmpty() ? Optional.of(ImageFs.rootNode()) : from.lstat(resolved);
            if (n.isEmpty()) {
                throw new BuildException(keyword() + " --from source \"" + source + "\" not found in " + copy
                        .flatMap(Instruction.Copy::from).orElse("the source"));
            }
            CopyPlan.Source top = CopyPlan.fromImage(n.get(), "");
            List<CopyPlan.Source> below = new ArrayList<>();
            if (n.get().isDirectory()) {
                String prefix = resolved.isEmpty() ? "" : resolved + "/";
                for (ImageFs.Node c : from.below(resolved)) {
                    below.add(CopyPlan.fromImage(c, c.path().substring(prefix.length())));
                }
            }
            String target = top.type() == 'd' ? dest : fileTarget(plan, dest, destDir, CopyPlan.baseName(name));
            plan.copy(top, below, target, exclude);
        }
        return names.size();
    }

}

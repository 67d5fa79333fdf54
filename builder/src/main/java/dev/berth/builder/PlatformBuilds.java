package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Document;
import dev.berth.layers.ImageIndex;
import dev.berth.layers.MediaType;
import dev.berth.layers.Platform;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A build for several platforms ({@code --platform linux/amd64,linux/arm64}): the Dockerfile is built once
 * per platform, in the order given, and the images become one OCI image index, each entry with its
 * config's platform; the outputs get the index. Every platform's base images are resolved and every
 * check made before the first layer is written, so a base that lacks a platform stops the build before
 * anything is built. Stages that cannot depend on the target platform are built once ({@link SharedStages}).
 */
final class PlatformBuilds {
    private final BuildRequest request;
    private final Consumer<BuildEvent> events;
    private final BuildRun.Workspace ws;

    PlatformBuilds(BuildRequest request, Consumer<BuildEvent> events, BuildRun.Workspace ws) {
        this.request = request;
        this.events = events;
        this.ws = ws;
    }

    BuildResult run() {
        List<BuildOutput> outputs = request.effectiveOutputs();
        ImageOutputs imageOutputs = new ImageOutputs(request, ws.store(), ws.cache(), ws.pusher(), events, ws.remote());
        imageOutputs.check(outputs);
        List<BuildRun> runs = new ArrayList<>();
        for (Platform p : request.platforms()) {
            BuildRun run = new BuildRun(request.forPlatform(p), events, ws, p.toString());
            run.prepare();
            runs.add(run);
        }
        List<Descriptor> manifests = new ArrayList<>();
        List<BuildEvent.StepDone> steps = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (BuildRun run : runs) {
            BuildRun.Built built = run.build();
            manifests.add(built.image().manifest().withAnnotations(java.util.Map.of())
                    .withPlatform(Optional.of(built.platform())));
            BuildResult r = run.result(built.image().manifest(), built.image().imageId());
            steps.addAll(r.steps());
            r.warnings().stream().filter(w -> !warnings.contains(w)).forEach(warnings::add);
        }
        Descriptor index = ws.store().put(Document.of(ImageIndex.of(MediaType.OCI_INDEX, manifests), MediaType.OCI_INDEX));
        imageOutputs.write(outputs, index);
        return new BuildResult(index, index.digest(), steps, warnings);
    }
}

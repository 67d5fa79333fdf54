package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.LayersException;
import dev.berth.layers.ManifestLists;
import dev.berth.layers.Platform;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth inspect NAME}: a container (its state and configuration, as docker's JSON), or an image's
 * manifest and config. As docker does, a name is a container's when there is one, else an image's;
 * {@code --type} says which.
 */
@Command(name = "inspect", description = "Show a container's state and configuration, or an image's manifest and config.")
final class InspectCommand implements Runnable {
    @Parameters(arity = "1..*", paramLabel = "NAME", description = "Container or image names or ids.")
    List<String> names;

    @Option(names = "--type", paramLabel = "container|image", description = "Only look for a container or an image.")
    String type;

    @Option(names = {"-f", "--format"}, paramLabel = "text|json|TEMPLATE", defaultValue = "text",
            description = "Output format: text (default), json (the manifest and config documents as stored), or a "
                    + "template such as '{{.State.Status}}' or '{{json .Config.Env}}'.")
    String format;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
            description = "For a multi-platform image, the manifest and config of this platform's image (default: the"
                    + " index and its platforms); a single-platform image must be for it.")
    String platform;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        GoTemplate template = GoTemplate.forFormat(format, "text", "json").orElse(null);
        if (type != null && !type.equals("container") && !type.equals("image")) {
            throw new LayersException("--type: unknown type \"" + type + "\" (use container or image)");
        }
        java.util.Optional<Platform> wanted = java.util.Optional.ofNullable(platform).map(Platform::parse);
        PrintWriter out = spec.commandLine().getOut();
        List<Object> json = new ArrayList<>();
        List<Object> containers = new ArrayList<>();
        dev.berth.runtime.ContainerRuntime runtime = "image".equals(type) ? null : ContainerVerbs.runtime();
        try (ImageStore store = Stores.open()) {
            for (String name : names) {
                java.util.Optional<Map<String, Object>> c = runtime == null ? java.util.Optional.empty()
                        : runtime.control().inspect(name);
                if (c.isPresent()) {
                    (format.equals("text") ? containers : json).add(c.get());
                    continue;
                }
                if ("container".equals(type)) {
                    throw new dev.berth.runtime.ContainerException(1, "no such container: " + name);
                }
                Stores.Entry e = Stores.findOne(store, name);
                if (e.descriptor().mediaType().isIndex() && wanted.isEmpty()) {
                    Map<String, Object> doc = indexDocument(store, e);
                    if (format.equals("text") && template == null) {
                        indexText(out, doc);
                    } else {
                        json.add(template != null ? Json.mapper().convertValue(doc, Map.class) : doc);
                    }
                    continue;
                }
                Image image = wanted.isEmpty() ? Stores.image(store, e)
                        : store.image(e.descriptor(), wanted.get(), e.label());
                if (wanted.isPresent() && !e.descriptor().mediaType().isIndex() && !image.platform().satisfies(wanted.get())) {
                    throw new LayersException(e.label() + " is for " + image.platform() + ", not " + wanted.get());
                }
                if (template != null) {
                    json.add(Json.mapper().convertValue(document(e, image), Map.class));
                } else if (format.equals("json")) {
                    json.add(document(e, image));
                } else {
                    text(out, e, image);
                }
            }
        }
        if (template != null) {
            List<Map<String, Object>> docs = new ArrayList<>();
            for (Object o : json) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) o;
                docs.add(m);
            }
            out.print(template.render(docs, Map.of()));
        } else if (format.equals("json")) {
            out.println(Json.pretty(json));
        } else if (!containers.isEmpty()) { // a container has no text form: docker's JSON
            out.println(Json.pretty(containers));
        }
    }

    /** An index as {@code json} and templates show it: its document, and per entry what the store holds. */
    private static Map<String, Object> indexDocument(ImageStore store, Stores.Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Name", e.name().map(Object::toString).orElse(""));
        m.put("Digest", e.descriptor().digest().toString());
        m.put("MediaType", e.descriptor().mediaType().toString());
        m.put("Index", tree(store.readBytes(e.descriptor(), e.label())));
        List<Map<String, Object>> platforms = new ArrayList<>();
        for (ManifestLists.Entry entry : ManifestLists.entries(store, e.descriptor(), e.label())) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("Platform", entry.platformName());
            p.put("Digest", entry.descriptor().digest().toString());
            p.put("MediaType", entry.descriptor().mediaType().toString());
            p.put("Image", entry.isImage());
            p.put("InStore", entry.image().isPresent() || (!entry.isImage() && store.has(entry.descriptor())));
            entry.image().ifPresent(i -> {
                p.put("Id", i.id().toString());
                p.put("Size", i.size());
            });
            platforms.add(p);
        }
        m.put("Platforms", platforms);
        return m;
    }

    private static void indexText(PrintWriter out, Map<String, Object> doc) {
        out.println("Name:         " + (doc.get("Name").toString().isEmpty() ? "<none>" : doc.get("Name")));
        out.println("Digest:       " + doc.get("Digest"));
        out.println("Media type:   " + doc.get("MediaType"));
        out.println("Platforms:");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> platforms = (List<Map<String, Object>>) doc.get("Platforms");
        for (Map<String, Object> p : platforms) {
            String held = !(Boolean) p.get("InStore") ? "not in the store"
                    : !(Boolean) p.get("Image") ? "attestation" : Format.size((Long) p.get("Size"));
            out.println("  " + p.get("Platform") + "  " + p.get("Digest") + "  " + held);
        }
        out.println();
    }

    private static Map<String, Object> document(Stores.Entry e, Image image) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Name", e.name().map(Object::toString).orElse(""));
        m.put("Digest", e.descriptor().digest().toString());
        m.put("MediaType", e.descriptor().mediaType().toString());
        m.put("Id", image.id().toString());
        m.put("ManifestDigest", image.digest().toString());
        m.put("Manifest", tree(image.manifest().bytes()));
        m.put("Config", tree(image.config().bytes()));
        return m;
    }

    private static JsonNode tree(byte[] bytes) {
        try {
            return Json.mapper().readTree(bytes);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    private static void text(PrintWriter out, Stores.Entry e, Image image) {
        ImageConfig c = image.config().value();
        ContainerConfig cc = c.containerConfig();
        out.println("Name:         " + e.name().map(Object::toString).orElse("<none>"));
        out.println("Digest:       " + e.descriptor().digest());
        if (!image.digest().equals(e.descriptor().digest())) {
            out.println("Manifest:     " + image.digest() + " (for " + c.platform() + ")");
        }
        out.println("Media type:   " + image.manifest().mediaType());
        out.println("Id:           " + image.id());
        out.println("Platform:     " + c.platform());
        out.println("Created:      " + c.created().orElse("N/A"));
        out.println("Size:         " + Format.size(image.size()));
        cc.user().ifPresent(u -> out.println("User:         " + u));
        cc.workingDir().ifPresent(w -> out.println("WorkingDir:   " + w));
        cc.entrypoint().ifPresent(ep -> out.println("Entrypoint:   " + Json.pretty(ep).replaceAll("\\s+", " ")));
        cc.cmd().ifPresent(cmd -> out.println("Cmd:          " + Json.pretty(cmd).replaceAll("\\s+", " ")));
        if (!cc.env().isEmpty()) {
            out.println("Env:");
            cc.env().forEach(v -> out.println("  " + v));
        }
        if (!cc.exposedPorts().isEmpty()) {
            out.println("ExposedPorts: " + String.join(" ", cc.exposedPorts().keySet()));
        }
        if (!cc.labels().isEmpty()) {
            out.println("Labels:");
            cc.labels().forEach((k, v) -> out.println("  " + k + "=" + v));
        }
        out.println("Layers:");
        List<Descriptor> layers = image.layers();
        for (int i = 0; i < layers.size(); i++) {
            Descriptor l = layers.get(i);
            out.println("  " + l.digest() + "  " + Format.size(l.size()) + "  " + l.mediaType());
            out.println("    diff_id " + image.diffIds().get(i));
        }
        out.println();
    }
}

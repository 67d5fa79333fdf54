package dev.berth.cli;

import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.LayersException;
import dev.berth.layers.ManifestLists;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth images}: the images in the local store. */
@Command(name = "images", aliases = "ls", description = "List the images in the local store.")
final class ImagesCommand implements Runnable {
    @Option(names = "--format", paramLabel = "table|json|TEMPLATE", defaultValue = "table",
            description = "Output format: table (default), json, or a template such as '{{.Repository}}:{{.Tag}}' "
                    + "or 'table {{.ID}}\\t{{.Size}}'.")
    String format;

    @Option(names = {"-q", "--quiet"}, description = "Only show image digests.")
    boolean quiet;

    @Option(names = "--size", description = "Show what of each image's size it shares with other images of the store"
            + " and what is its alone (what removing it would free).")
    boolean sizes;

    @Option(names = "--no-trunc", description = "Show full digests.")
    boolean noTrunc;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One line of the listing; also the JSON shape of {@code --format json}. */
    record Row(String name, String repository, String tag, String digest, String id, String created, long size,
               String platform, List<String> platforms, long shared, long unique) {}

    @Override
    public void run() {
        GoTemplate template = GoTemplate.forFormat(format, "table", "json").orElse(null);
        List<Row> rows = new ArrayList<>();
        java.util.Map<String, java.util.Map<String, Long>> blobsOf = new java.util.HashMap<>(); // image -> blob -> size
        try (ImageStore store = Stores.open()) {
            for (Stores.Entry e : Stores.entries(store)) {
                String repo = e.name().map(r -> r.familiarName()).orElse("<none>");
                String tag = e.name().flatMap(r -> r.tag()).orElse("<none>");
                String id = "";
                String created = "";
                long size = 0;
                String platform = "";
                List<String> platforms = List.of();
                try {
                    List<Image> images = images(store, e);
                    java.util.Map<String, Long> blobs = new java.util.HashMap<>();
                    for (Image image : images) {
                        image.layers().forEach(l -> blobs.put(l.digest().toString(), l.size()));
                        blobs.put(image.config().descriptor().digest().toString(), image.config().descriptor().size());
                    }
                    created = images.stream().flatMap(i -> i.config().value().created().stream())
                            .max(Comparator.naturalOrder()).orElse(""); // an index's newest image
                    blobsOf.put(e.descriptor().digest().toString(), blobs);
                    if (e.descriptor().mediaType().isIndex()) {
                        size = blobs.values().stream().mapToLong(Long::longValue).sum(); // shared layers once
                        id = e.descriptor().digest().toString();
                        platforms = ManifestLists.entries(store, e.descriptor(), e.label()).stream()
                                .filter(ManifestLists.Entry::isImage).map(ManifestLists.Entry::platformName).toList();
                    } else {
                        size = images.getFirst().size();
                        id = images.getFirst().id().toString();
                        platforms = List.of(images.getFirst().platform().toString());
                    }
                    platform = String.join(",", platforms);
                } catch (LayersException broken) {
                    created = "(unreadable: " + broken.getMessage() + ")";
                }
                rows.add(new Row(e.name().map(Object::toString).orElse(""), repo, tag,
                        e.descriptor().digest().toString(), id, created, size, platform, platforms, 0, 0));
            }
        }
        java.util.Map<String, Integer> users = new java.util.HashMap<>(); // blob -> images that have it
        blobsOf.values().forEach(b -> b.keySet().forEach(d -> users.merge(d, 1, Integer::sum)));
        rows.replaceAll(r -> {
            java.util.Map<String, Long> b = blobsOf.getOrDefault(r.digest(), java.util.Map.of());
            long shared = b.entrySet().stream().filter(x -> users.get(x.getKey()) > 1).mapToLong(x -> x.getValue()).sum();
            long unique = b.entrySet().stream().filter(x -> users.get(x.getKey()) == 1).mapToLong(x -> x.getValue()).sum();
            return new Row(r.name(), r.repository(), r.tag(), r.digest(), r.id(), r.created(), r.size(), r.platform(),
                    r.platforms(), shared, unique);
        });
        rows.sort(Comparator.comparing(Row::repository).thenComparing(Row::tag));
        PrintWriter out = spec.commandLine().getOut();
        if (format.equals("json")) {
            out.println(Json.pretty(rows));
            return;
        }
        if (template != null) {
            List<java.util.Map<String, Object>> fields = new ArrayList<>();
            for (Row r : rows) {
                java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("ID", r.id().isEmpty() ? "" : shorten(r.id()));
                m.put("Repository", r.repository());
                m.put("Tag", r.tag());
                m.put("Digest", r.digest());
                m.put("CreatedAt", r.created());
                m.put("CreatedSince", Format.ago(Format.instant(java.util.Optional.of(r.created()).filter(c -> !c.isEmpty()))));
                m.put("Size", Format.size(r.size()));
                m.put("Platform", r.platform());
                m.put("SharedSize", Format.size(r.shared()));
                m.put("UniqueSize", Format.size(r.unique()));
                fields.add(m);
            }
            out.print(template.render(fields, java.util.Map.of("ID", "IMAGE ID", "CreatedSince", "CREATED",
                    "CreatedAt", "CREATED AT")));
            out.flush();
            return;
        }
        if (quiet) {
            rows.stream().map(r -> shorten(r.digest())).distinct().forEach(out::println);
            return;
        }
        List<String[]> table = new ArrayList<>();
        table.add(sizes ? new String[] {"REPOSITORY", "TAG", "DIGEST", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE",
            "PLATFORM"} : new String[] {"REPOSITORY", "TAG", "DIGEST", "CREATED", "SIZE", "PLATFORM"});
        for (Row r : rows) {
            String ago = Format.ago(Format.instant(java.util.Optional.of(r.created()).filter(s -> !s.isEmpty())));
            table.add(sizes ? new String[] {r.repository(), r.tag(), shorten(r.digest()), ago, Format.size(r.size()),
                Format.size(r.shared()), Format.size(r.unique()), r.platform()}
                : new String[] {r.repository(), r.tag(), shorten(r.digest()), ago, Format.size(r.size()), r.platform()});
        }
        out.print(Format.table(table));
    }

    /**
     * The images an entry stands for: a manifest's one, or every image of an index the store holds (the
     * platforms a single-platform pull left out are not counted in its size).
     */
    private static List<Image> images(ImageStore store, Stores.Entry e) {
        if (!e.descriptor().mediaType().isIndex()) {
            return List.of(Stores.image(store, e));
        }
        List<Image> out = ManifestLists.entries(store, e.descriptor(), e.label()).stream()
                .filter(ManifestLists.Entry::isImage).flatMap(x -> x.image().stream()).toList();
        if (out.isEmpty()) {
            throw new LayersException(e.label() + ": the store holds none of its platforms' images");
        }
        return out;
    }

    private String shorten(String digest) {
        return noTrunc ? digest : digest.substring(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
    }

}

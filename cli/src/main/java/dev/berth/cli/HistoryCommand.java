package dev.berth.cli;

import dev.berth.layers.Compression;
import dev.berth.layers.Image;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.LayersException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth history IMAGE}: the image's history as docker prints it, newest first: the step that made
 * each entry, when, the size of its layer (the bytes of the files it holds; 0B for an entry without one)
 * and its comment. The newest entry shows the image's id; the others {@code <missing>}, as docker shows
 * entries that are not images of their own.
 */
@Command(name = "history", description = "Show the history of an image: each step, its size and comment.")
final class HistoryCommand implements Runnable {
    @Parameters(index = "0", paramLabel = "IMAGE", description = "An image's name or id.")
    String name;

    @Option(names = "--no-trunc", description = "Do not truncate the output.")
    boolean noTrunc;

    @Option(names = {"-q", "--quiet"}, description = "Only show image ids.")
    boolean quiet;

    @Option(names = {"-H", "--human"}, negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Sizes and dates in human form (default); --human=false prints bytes and RFC 3339 times.")
    boolean human;

    @Option(names = "--format", paramLabel = "table|json|TEMPLATE", defaultValue = "table",
            description = "Output format: table (default), json (one object per entry), or a template such as "
                    + "'{{.CreatedBy}} {{.Size}}'.")
    String format;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        GoTemplate template = GoTemplate.forFormat(format, "table", "json").orElse(null);
        List<Map<String, Object>> rows = new ArrayList<>();
        String id;
        try (ImageStore store = Stores.open()) {
            Image image = Stores.image(store, Stores.findOne(store, name));
            id = image.id().toString();
            List<ImageConfig.History> history = image.config().value().history();
            int layer = 0;
            for (ImageConfig.History h : history) {
                boolean empty = h.emptyLayer().orElse(false) || layer >= image.layers().size();
                long size = empty ? 0 : contentSize(store, image, layer++);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("CreatedAt", h.created().orElse(""));
                row.put("CreatedBy", h.createdBy().orElse(""));
                row.put("Size", size);
                row.put("Comment", h.comment().orElse(""));
                rows.add(0, row);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        for (int i = 0; i < rows.size(); i++) {
            rows.get(i).put("ID", i == 0 ? id : "<missing>");
        }
        if (format.equals("json")) {
            out.println(Json.pretty(rows));
        } else if (template != null) {
            Instant now = Instant.now();
            List<Map<String, Object>> fields = rows.stream().map(r -> {
                Map<String, Object> m = new LinkedHashMap<>(r);
                m.put("ID", shortId((String) r.get("ID")));
                m.put("CreatedSince", created((String) r.get("CreatedAt"), now));
                m.put("Size", human ? Format.size((Long) r.get("Size")) : r.get("Size").toString());
                return m;
            }).toList();
            out.print(template.render(fields, Map.of("ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt", "CREATED AT")));
        } else if (quiet) {
            rows.forEach(r -> out.println(shortId((String) r.get("ID"))));
        } else {
            String f = noTrunc ? "%-71s  %-20s  %-45s  %-10s  %s%n" : "%-12s  %-15s  %-45s  %-10s  %s%n";
            out.printf(f, "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT");
            Instant now = Instant.now();
            for (Map<String, Object> r : rows) {
                String by = ((String) r.get("CreatedBy")).replace('\t', ' ').replace('\n', ' ');
                out.printf(f, shortId((String) r.get("ID")), created((String) r.get("CreatedAt"), now),
                        noTrunc || by.length() <= 45 ? by : by.substring(0, 44) + "…",
                        human ? Format.size((Long) r.get("Size")) : r.get("Size").toString(), r.get("Comment"));
            }
        }
        out.flush();
    }

    private String shortId(String id) {
        return noTrunc || !id.startsWith("sha256:") ? id : id.substring(7, 19);
    }

    private String created(String when, Instant now) {
        if (!human || when.isEmpty()) {
            return when.isEmpty() ? "N/A" : when;
        }
        try {
            return PsCommand.ago(Duration.between(Instant.parse(when), now));
        } catch (DateTimeParseException e) {
            return when;
        }
    }

    /** The bytes of the regular files in layer {@code i}, as docker's SIZE counts them. */
    private static long contentSize(ImageStore store, Image image, int i) {
        long total = 0;
        try (InputStream blob = store.open(image.layers().get(i), "layer " + (i + 1) + " of " + image.digest());
             TarArchiveInputStream tar = new dev.berth.layers.LayerTarInput(Compression.decompress(blob))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (e.isFile()) {
                    total += e.getSize();
                }
            }
        } catch (IOException e) {
            throw new LayersException("history: cannot read layer " + (i + 1) + " of " + image.digest() + ": "
                    + e.getMessage(), e);
        }
        return total;
    }
}

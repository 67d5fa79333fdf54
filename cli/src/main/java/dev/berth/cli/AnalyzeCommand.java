package dev.berth.cli;

import dev.berth.layers.AnalysisReport;
import dev.berth.layers.Image;
import dev.berth.layers.ImageAnalysis;
import dev.berth.layers.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth analyze}: why an image is the size it is (see {@link ImageAnalysis}), as text or JSON, with
 * budgets that fail a CI job as dive's CI mode does.
 */
@Command(name = "analyze", description = "Show why an image is the size it is: layers, wasted bytes, caches, programs.")
final class AnalyzeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IMAGE", description = "An image of the store (name or id), oci:DIR[:TAG], "
            + "oci-archive:FILE or docker-archive:FILE.")
    String name;

    @Option(names = "--format", paramLabel = "text|json", defaultValue = "text", description = "Output: text (default) or json.")
    String format;

    @Option(names = "--fail-wasted", paramLabel = "SIZE", description = "Exit 1 when more than SIZE (10m, 512k) is wasted.")
    String failWasted;

    @Option(names = "--fail-size", paramLabel = "SIZE", description = "Exit 1 when the image's content is over SIZE.")
    String failSize;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!format.equals("text") && !format.equals("json")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--format: text or json, not " + format);
        }
        long wastedBudget = failWasted == null ? -1 : dev.berth.runtime.Resources.parseBytes(failWasted, "--fail-wasted");
        long sizeBudget = failSize == null ? -1 : dev.berth.runtime.Resources.parseBytes(failSize, "--fail-size");
        AnalysisReport r = ImageSources.withImage(name, "analyze " + name, AnalyzeCommand::analyze);
        PrintWriter out = spec.commandLine().getOut();
        if (format.equals("json")) {
            out.println(Json.pretty(r));
        } else {
            print(r, out);
        }
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        int code = 0;
        if (wastedBudget >= 0 && r.wasted() > wastedBudget) {
            err.println("berth: analyze " + name + ": " + Format.size(r.wasted()) + " wasted, over the budget of "
                    + failWasted);
            code = 1;
        }
        if (sizeBudget >= 0 && r.content() > sizeBudget) {
            err.println("berth: analyze " + name + ": the image is " + Format.size(r.content()) + ", over the budget of "
                    + failSize);
            code = 1;
        }
        err.flush();
        return code;
    }

    static AnalysisReport analyze(Image image) {
        try {
            return ImageAnalysis.analyze(image);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The one line berth build prints: its size and layers, and what is wasted where. */
    static String summary(AnalysisReport r) {
        StringBuilder b = new StringBuilder("image ").append(Format.size(r.content())).append(" in ")
                .append(r.layers().size()).append(r.layers().size() == 1 ? " layer" : " layers");
        if (r.wasted() > 0) {
            AnalysisReport.Waste top = r.waste().getFirst();
            b.append("; ").append(Format.size(r.wasted())).append(" wasted, most in layer ").append(top.layer());
            String by = oneLine(r.layers().get(top.layer() - 1).createdBy());
            if (!by.isEmpty()) {
                b.append(" (").append(by.length() > 40 ? by.substring(0, 39) + "…" : by).append(")");
            }
        }
        return b.toString();
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s+", " ").replaceFirst("^/bin/sh -c #\\(nop\\) ", "").strip();
    }

    static void print(AnalysisReport r, PrintWriter out) {
        out.printf("%s: %s of files in %d layers (%s as tars, %s compressed)%n", r.image(), Format.size(r.content()),
                r.layers().size(), Format.size(r.uncompressed()), Format.size(r.compressed()));
        out.println();
        out.printf("%-5s  %-10s  %-10s  %-6s  %-7s  %-7s  %s%n", "LAYER", "SIZE", "COMPRESSED", "ADDED", "CHANGED",
                "REMOVED", "CREATED BY");
        for (AnalysisReport.Layer l : r.layers()) {
            String by = oneLine(l.createdBy());
            out.printf("%-5d  %-10s  %-10s  %-6d  %-7d  %-7d  %s%n", l.number(), Format.size(l.uncompressed()),
                    Format.size(l.compressed()), l.added(), l.changed(), l.removed(),
                    by.length() > 60 ? by.substring(0, 59) + "…" : by);
        }
        out.println();
        double share = r.content() + r.wasted() == 0 ? 0 : 100.0 * r.wasted() / (r.content() + r.wasted());
        out.printf(Locale.ROOT, "Wasted: %s (%.1f%% of what the layers ship); dive's efficiency %.1f%%, potential "
                + "wasted space %s%n", Format.size(r.wasted()), share, 100 * r.dive().efficiency(),
                Format.size(r.dive().wastedBytes()));
        r.waste().stream().limit(20).forEach(w -> out.printf("  %-10s %s  (layer %d, %s in layer %d)%n",
                Format.size(w.bytes()), w.path(), w.layer(), w.how(), w.hiddenBy()));
        if (r.waste().size() > 20) {
            out.printf("  ... and %d more (--format json lists them all)%n", r.waste().size() - 20);
        }
        out.println();
        out.println("Largest files:");
        r.largestFiles().forEach(i -> out.printf("  %-10s %s%n", Format.size(i.bytes()), i.path()));
        out.println("Largest directories:");
        r.largestDirectories().forEach(i -> out.printf("  %-10s %s%n", Format.size(i.bytes()), i.path()));
        if (!r.findings().isEmpty()) {
            out.println();
            out.println("Caches and toolchains in the image:");
            r.findings().forEach(f -> out.printf("  %-10s %s: %s (layer%s %s)%n             avoid with: %s%n",
                    Format.size(f.bytes()), f.path(), f.what(), f.layers().size() == 1 ? "" : "s",
                    String.join(", ", f.layers().stream().map(String::valueOf).toList()), f.advice()));
        }
        if (!r.binaries().isEmpty()) {
            out.println();
            out.println("Programs:");
            r.binaries().stream().limit(20).forEach(b -> out.printf("  %-10s %s  %s%n", Format.size(b.bytes()), b.path(),
                    b.staticallyLinked() ? "static" : "dynamic, " + b.interpreter().orElse("?")
                            + (b.libraries().isEmpty() ? "" : ": " + String.join(" ", b.libraries()))));
            if (r.binaries().size() > 20) {
                out.printf("  ... and %d more%n", r.binaries().size() - 20);
            }
        }
        r.scratch().ifPresent(s -> {
            out.println();
            out.println(s);
        });
    }

}

package dev.berth.cli;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Json;
import dev.berth.layers.LayersException;
import dev.berth.layers.ManifestLists;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth manifest create|add|inspect|push|rm|remove}: a multi-platform image (an index, "manifest
 * list") assembled in the store from images made separately, with podman's and {@code docker manifest}'s
 * verbs. The list is an image of the store as any other: {@code images}, {@code inspect}, {@code save},
 * {@code push} and {@code run} (this machine's platform) take it.
 */
@Command(name = "manifest", description = "Assemble, inspect and push multi-platform images (manifest lists).",
        subcommands = {ManifestCommand.Create.class, ManifestCommand.Add.class, ManifestCommand.Inspect.class,
            ManifestCommand.Push.class, ManifestCommand.Rm.class, ManifestCommand.Remove.class})
final class ManifestCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "manifest needs a command: create, add, inspect, push, rm or remove");
    }

    /** The index entries for images of the store named by {@code names}. */
    private static List<Descriptor> entries(ImageStore store, List<String> names, boolean all,
                                            Optional<Platform> platform) {
        List<Descriptor> out = new ArrayList<>();
        for (String n : names) {
            Stores.Entry e = Stores.findOne(store, n);
            out.addAll(ManifestLists.entriesFor(store, e.descriptor(), e.label(), all, platform));
        }
        return out;
    }

    /** The manifest list {@code ref} names in the store; an error when it names none, or an image that is not one. */
    private static Descriptor list(ImageStore store, Reference ref) {
        Descriptor d = store.resolve(ref).orElseThrow(
                () -> new LayersException("manifest list " + ref.familiar() + " is not in the store"));
        ManifestLists.index(store, d, ref.familiar());
        return d;
    }

    @Command(name = "create", description = "Name a new manifest list holding the given images of the store.")
    static final class Create implements Runnable {
        @Parameters(index = "0", paramLabel = "LIST", description = "The list's name.")
        String list;

        @Parameters(index = "1..*", arity = "0..*", paramLabel = "IMAGE",
                description = "Images of the store to add (a multi-platform one adds this machine's platform).")
        List<String> images = List.of();

        @Option(names = "--all", description = "Of an IMAGE that is a manifest list, add every entry.")
        boolean all;

        @Option(names = {"-a", "--amend"}, description = "If LIST exists, add to it instead of failing.")
        boolean amend;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            Reference ref = Reference.parse(list);
            try (ImageStore store = Stores.open()) {
                Descriptor d = ManifestLists.create(store, ref, entries(store, images, all, Optional.empty()), amend);
                spec.commandLine().getOut().println(d.digest());
            }
        }
    }

    @Command(name = "add", description = "Add an image of the store to a manifest list.")
    static final class Add implements Runnable {
        @Parameters(index = "0", paramLabel = "LIST", description = "The list.")
        String list;

        @Parameters(index = "1", paramLabel = "IMAGE", description = "An image of the store.")
        String image;

        @Option(names = "--all", description = "If IMAGE is a manifest list, add every entry of it.")
        boolean all;

        @Option(names = "--os", paramLabel = "OS", description = "The platform's os (default: the image config's).")
        String os;

        @Option(names = "--arch", paramLabel = "ARCH", description = "The platform's architecture (default: the config's).")
        String arch;

        @Option(names = "--variant", paramLabel = "VARIANT", description = "The platform's variant (default: the config's).")
        String variant;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            Reference ref = Reference.parse(list);
            try (ImageStore store = Stores.open()) {
                List<Descriptor> add = entries(store, List.of(image), all, Optional.empty());
                if (os != null || arch != null || variant != null) {
                    if (add.size() != 1) {
                        throw new LayersException("manifest add: --os, --arch and --variant set one image's platform,"
                                + " not those of every entry of " + image);
                    }
                    add = List.of(add.getFirst().withPlatform(Optional.of(override(add.getFirst().platform()))));
                }
                Descriptor d = ManifestLists.add(store, ref, add);
                spec.commandLine().getOut().println(d.digest());
            }
        }

        private Platform override(Optional<Platform> base) {
            Platform b = base.orElseGet(Platform::host);
            String v = variant != null ? variant : arch == null ? b.variant().orElse("") : "";
            return Platform.parse((os != null ? os : b.os()) + "/" + (arch != null ? arch : b.architecture())
                    + (v.isEmpty() ? "" : "/" + v));
        }
    }

    @Command(name = "inspect", description = "Print a manifest list (or manifest) of the store, else of its registry.")
    static final class Inspect implements Runnable {
        @Parameters(paramLabel = "LIST", description = "A list of the store, or a reference in a registry.")
        String list;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            byte[] bytes;
            try (ImageStore store = Stores.open()) {
                Optional<Reference> ref = Stores.parseQuietly(list);
                Optional<Descriptor> local = ref.flatMap(store::resolve);
                if (local.isPresent()) {
                    bytes = store.readBytes(local.get(), list);
                } else if (ref.isPresent() && !list.matches("(sha256:)?[0-9a-f]{4,64}")) {
                    try (RegistryClient registry = RegistryClient.create(RegistryConfig.fromEnvironment())) {
                        bytes = registry.manifest(ref.get()).bytes();
                    }
                } else {
                    bytes = store.readBytes(Stores.findOne(store, list).descriptor(), list);
                }
            }
            try {
                out.println(Json.pretty(Json.mapper().readTree(bytes)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Command(name = "push", description = "Push a manifest list with every image in it to a registry.")
    static final class Push implements Runnable {
        @Parameters(index = "0", paramLabel = "LIST", description = "The list in the store.")
        String list;

        @Parameters(index = "1", arity = "0..1", paramLabel = "DESTINATION",
                description = "Where to push it (default: LIST): [docker://][registry/]repository[:tag].")
        String destination;

        @Option(names = "--all", description = "Push the images of the list too (berth always does: a registry"
                + " refuses an index whose images it lacks).")
        boolean all;

        @Option(names = "--rm", description = "Remove the list's name from the store once it is pushed.")
        boolean rm;

        @Option(names = {"-q", "--quiet"}, description = "Print only the destination when done.")
        boolean quiet;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            Reference source = Reference.parse(list);
            try (ImageStore store = Stores.open()) {
                list(store, source);
            }
            String dest = destination == null ? list : destination.replaceFirst("^docker://", "");
            PushCommand.push(spec, source, Reference.parse(dest), quiet);
            if (rm) {
                try (ImageStore store = Stores.open()) {
                    store.untag(source);
                }
            }
        }
    }

    @Command(name = "rm", description = "Remove manifest lists' names from the store (their images stay).")
    static final class Rm implements Runnable {
        @Parameters(arity = "1..*", paramLabel = "LIST", description = "Lists of the store.")
        List<String> lists;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            try (ImageStore store = Stores.open()) {
                for (String l : lists) {
                    Reference ref = Reference.parse(l);
                    list(store, ref);
                    store.untag(ref);
                    spec.commandLine().getOut().println("Untagged: " + ref.familiar());
                }
            }
        }
    }

    @Command(name = "remove", description = "Remove an entry, by its digest, from a manifest list.")
    static final class Remove implements Runnable {
        @Parameters(index = "0", paramLabel = "LIST", description = "The list.")
        String list;

        @Parameters(index = "1", paramLabel = "DIGEST", description = "The entry's manifest digest.")
        String digest;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            try (ImageStore store = Stores.open()) {
                Descriptor d = ManifestLists.remove(store, Reference.parse(list), Digest.parse(digest));
                spec.commandLine().getOut().println(d.digest());
            }
        }
    }
}

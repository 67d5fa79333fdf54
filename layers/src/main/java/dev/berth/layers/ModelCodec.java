package dev.berth.layers;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The image model's JSON, read and written with Jackson's streaming API instead of data binding. A cold
 * JVM needs a tenth of a second or more to build data binding's (de)serialisers for these records, and every
 * berth command reads some of them; this code needs none of that. The result is the same as data binding's
 * with {@link Json}'s configuration, which a test checks on a corpus of real documents:
 * <ul>
 *   <li>reading: unknown fields go to a record's {@code extra} (into plain maps, lists, strings, numbers,
 *       booleans and nulls); {@code null} or a missing field is an absent value; scalars are coerced as data
 *       binding coerces them (a number where a string is expected, a numeric string where a number is);
 *   <li>writing: fields in declaration order, {@code extra} last, absent values and the empty collections
 *       marked non-empty left out, entries with null values left out of {@code extra} and of untyped maps.
 * </ul>
 * One difference, on purpose: unknown fields keep the order they had in the document they were read from
 * (data binding collects them in a hash map, so a config written from a base image's config listed them
 * in hash order).
 * Records not handled here ({@link #handles}) go through data binding.
 */
final class ModelCodec {
    private ModelCodec() {}

    /** Whether this codec reads and writes {@code type}. */
    static boolean handles(Class<?> type) {
        return type == Descriptor.class || type == Manifest.class || type == ImageIndex.class
                || type == ImageConfig.class || type == ContainerConfig.class || type == Platform.class;
    }

    /** Reads a value of a handled type; the parser is at the value's first token. */
    static Object read(JsonParser p, Class<?> type) throws IOException {
        if (type == Descriptor.class) {
            return descriptor(p);
        } else if (type == Manifest.class) {
            return manifest(p);
        } else if (type == ImageIndex.class) {
            return index(p);
        } else if (type == ImageConfig.class) {
            return imageConfig(p);
        } else if (type == ContainerConfig.class) {
            return containerConfig(p);
        } else if (type == Platform.class) {
            return platform(p);
        }
        throw new IllegalArgumentException("no codec for " + type);
    }

    /** Writes a value of a handled type. */
    static void write(JsonGenerator g, Object value) throws IOException {
        switch (value) {
            case Descriptor d -> descriptor(g, d);
            case Manifest m -> manifest(g, m);
            case ImageIndex i -> index(g, i);
            case ImageConfig c -> imageConfig(g, c);
            case ContainerConfig c -> containerConfig(g, c);
            case Platform pl -> platform(g, pl);
            default -> throw new IllegalArgumentException("no codec for " + value.getClass());
        }
    }

    // ------------------------------------------------------------------ records: reading

    private static Descriptor descriptor(JsonParser p) throws IOException {
        if (nullValue(p)) {
            return null;
        }
        MediaType mediaType = null;
        Digest digest = null;
        long size = 0;
        List<String> urls = null;
        Map<String, String> annotations = null;
        Optional<String> data = Optional.empty();
        Optional<Platform> platform = Optional.empty();
        Optional<MediaType> artifactType = Optional.empty();
        Map<String, Object> extra = new LinkedHashMap<>();
        startObject(p, "descriptor");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "mediaType" -> mediaType = mediaType(p);
                case "digest" -> digest = digest(p);
                case "size" -> size = longValue(p, name);
                case "urls" -> urls = strings(p, name);
                case "annotations" -> annotations = stringMap(p, name);
                case "data" -> data = Optional.ofNullable(string(p, name));
                case "platform" -> platform = Optional.ofNullable(platform(p));
                case "artifactType" -> artifactType = Optional.ofNullable(mediaType(p));
                default -> extra.put(name, value(p));
            }
        }
        return new Descriptor(mediaType, digest, size, urls, annotations, data, platform, artifactType, extra);
    }

    private static Platform platform(JsonParser p) throws IOException {
        if (nullValue(p)) {
            return null;
        }
        String architecture = null;
        String os = null;
        Optional<String> osVersion = Optional.empty();
        List<String> osFeatures = null;
        Optional<String> variant = Optional.empty();
        Map<String, Object> extra = new LinkedHashMap<>();
        startObject(p, "platform");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "architecture" -> architecture = string(p, name);
                case "os" -> os = string(p, name);
                case "os.version" -> osVersion = Optional.ofNullable(string(p, name));
                case "os.features" -> osFeatures = strings(p, name);
                case "variant" -> variant = Optional.ofNullable(string(p, name));
                default -> extra.put(name, value(p));
            }
        }
        return new Platform(architecture, os, osVersion, osFeatures, variant, extra);
    }

    private static Manifest manifest(JsonParser p) throws IOException {
        DocumentFields d = new DocumentFields();
        Descriptor config = null;
        List<Descriptor> layers = null;
        startObject(p, "manifest");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "config" -> config = descriptor(p);
                case "layers" -> layers = descriptors(p, name);
                default -> d.read(p, name);
            }
        }
        return new Manifest(d.schemaVersion, d.mediaType, d.artifactType, config, layers, d.subject, d.annotations,
                d.extra);
    }

    private static ImageIndex index(JsonParser p) throws IOException {
        DocumentFields d = new DocumentFields();
        List<Descriptor> manifests = null;
        startObject(p, "index");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            if (name.equals("manifests")) {
                manifests = descriptors(p, name);
            } else {
                d.read(p, name);
            }
        }
        return new ImageIndex(d.schemaVersion, d.mediaType, d.artifactType, manifests, d.subject, d.annotations,
                d.extra);
    }

    /** The fields a manifest and an index share, and the unknown ones, as they are read. */
    private static final class DocumentFields {
        int schemaVersion;
        Optional<MediaType> mediaType = Optional.empty();
        Optional<MediaType> artifactType = Optional.empty();
        Optional<Descriptor> subject = Optional.empty();
        Map<String, String> annotations;
        final Map<String, Object> extra = new LinkedHashMap<>();

        void read(JsonParser p, String name) throws IOException {
            switch (name) {
                case "schemaVersion" -> schemaVersion = (int) longValue(p, name);
                case "mediaType" -> mediaType = Optional.ofNullable(mediaType(p));
                case "artifactType" -> artifactType = Optional.ofNullable(mediaType(p));
                case "subject" -> subject = Optional.ofNullable(descriptor(p));
                case "annotations" -> annotations = stringMap(p, name);
                default -> extra.put(name, value(p));
            }
        }
    }

    private static ImageConfig imageConfig(JsonParser p) throws IOException {
        Optional<String> created = Optional.empty();
        Optional<String> author = Optional.empty();
        String architecture = null;
        String os = null;
        Optional<String> osVersion = Optional.empty();
        List<String> osFeatures = null;
        Optional<String> variant = Optional.empty();
        Optional<ContainerConfig> config = Optional.empty();
        ImageConfig.RootFs rootfs = null;
        List<ImageConfig.History> history = null;
        Map<String, Object> extra = new LinkedHashMap<>();
        startObject(p, "image config");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "created" -> created = Optional.ofNullable(string(p, name));
                case "author" -> author = Optional.ofNullable(string(p, name));
                case "architecture" -> architecture = string(p, name);
                case "os" -> os = string(p, name);
                case "os.version" -> osVersion = Optional.ofNullable(string(p, name));
                case "os.features" -> osFeatures = strings(p, name);
                case "variant" -> variant = Optional.ofNullable(string(p, name));
                case "config" -> config = Optional.ofNullable(containerConfig(p));
                case "rootfs" -> rootfs = rootfs(p);
                case "history" -> history = list(p, name, ModelCodec::history);
                default -> extra.put(name, value(p));
            }
        }
        return new ImageConfig(created, author, architecture, os, osVersion, osFeatures, variant, config, rootfs,
                history, extra);
    }

    private static ImageConfig.RootFs rootfs(JsonParser p) throws IOException {
        if (nullValue(p)) {
            return null;
        }
        String type = null;
        List<Digest> diffIds = null;
        startObject(p, "rootfs");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "type" -> type = string(p, name);
                case "diff_ids" -> diffIds = list(p, name, ModelCodec::digest);
                default -> p.skipChildren(); // data binding drops fields RootFs does not model
            }
        }
        return new ImageConfig.RootFs(type, diffIds);
    }

    private static ImageConfig.History history(JsonParser p) throws IOException {
        if (nullValue(p)) {
            return null;
        }
        Optional<String> created = Optional.empty();
        Optional<String> createdBy = Optional.empty();
        Optional<String> author = Optional.empty();
        Optional<String> comment = Optional.empty();
        Optional<Boolean> emptyLayer = Optional.empty();
        Map<String, Object> extra = new LinkedHashMap<>();
        startObject(p, "history entry");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "created" -> created = Optional.ofNullable(string(p, name));
                case "created_by" -> createdBy = Optional.ofNullable(string(p, name));
                case "author" -> author = Optional.ofNullable(string(p, name));
                case "comment" -> comment = Optional.ofNullable(string(p, name));
                case "empty_layer" -> emptyLayer = Optional.ofNullable(bool(p, name));
                default -> extra.put(name, value(p));
            }
        }
        return new ImageConfig.History(created, createdBy, author, comment, emptyLayer, extra);
    }

    private static ContainerConfig containerConfig(JsonParser p) throws IOException {
        if (nullValue(p)) {
            return null;
        }
        Optional<String> user = Optional.empty();
        Map<String, Map<String, Object>> exposedPorts = null;
        List<String> env = null;
        Optional<List<String>> entrypoint = Optional.empty();
        Optional<List<String>> cmd = Optional.empty();
        Optional<ContainerConfig.HealthCheck> healthcheck = Optional.empty();
        Optional<Boolean> argsEscaped = Optional.empty();
        Map<String, Map<String, Object>> volumes = null;
        Optional<String> workingDir = Optional.empty();
        Map<String, String> labels = null;
        List<String> onBuild = null;
        Optional<String> stopSignal = Optional.empty();
        List<String> shell = null;
        Map<String, Object> extra = new LinkedHashMap<>();
        startObject(p, "config");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "User" -> user = Optional.ofNullable(string(p, name));
                case "ExposedPorts" -> exposedPorts = objectMap(p, name);
                case "Env" -> env = strings(p, name);
                case "Entrypoint" -> entrypoint = Optional.ofNullable(strings(p, name));
                case "Cmd" -> cmd = Optional.ofNullable(strings(p, name));
                case "Healthcheck" -> healthcheck = Optional.ofNullable(healthCheck(p));
                case "ArgsEscaped" -> argsEscaped = Optional.ofNullable(bool(p, name));
                case "Volumes" -> volumes = objectMap(p, name);
                case "WorkingDir" -> workingDir = Optional.ofNullable(string(p, name));
                case "Labels" -> labels = stringMap(p, name);
                case "OnBuild" -> onBuild = strings(p, name);
                case "StopSignal" -> stopSignal = Optional.ofNullable(string(p, name));
                case "Shell" -> shell = strings(p, name);
                default -> extra.put(name, value(p));
            }
        }
        return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, healthcheck, argsEscaped, volumes,
                workingDir, labels, onBuild, stopSignal, shell, extra);
    }

    private static ContainerConfig.HealthCheck healthCheck(JsonParser p) throws IOException {
        if (nullValue(p)) {
            return null;
        }
        List<String> test = null;
        Optional<Long> interval = Optional.empty();
        Optional<Long> timeout = Optional.empty();
        Optional<Long> startPeriod = Optional.empty();
        Optional<Long> startInterval = Optional.empty();
        Optional<Integer> retries = Optional.empty();
        startObject(p, "Healthcheck");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "Test" -> test = strings(p, name);
                case "Interval" -> interval = optionalLong(p, name);
                case "Timeout" -> timeout = optionalLong(p, name);
                case "StartPeriod" -> startPeriod = optionalLong(p, name);
                case "StartInterval" -> startInterval = optionalLong(p, name);
                case "Retries" -> retries = optionalLong(p, name).map(Long::intValue);
                default -> p.skipChildren(); // data binding drops fields HealthCheck does not model
            }
        }
        return new ContainerConfig.HealthCheck(test, interval, timeout, startPeriod, startInterval, retries);
    }

    // ------------------------------------------------------------------ records: writing

    private static void descriptor(JsonGenerator g, Descriptor d) throws IOException {
        g.writeStartObject();
        g.writeStringField("mediaType", d.mediaType().value());
        g.writeStringField("digest", d.digest().toString());
        g.writeNumberField("size", d.size());
        if (!d.urls().isEmpty()) {
            g.writeFieldName("urls");
            stringList(g, d.urls());
        }
        if (!d.annotations().isEmpty()) {
            g.writeFieldName("annotations");
            map(g, d.annotations());
        }
        optionalString(g, "data", d.data());
        if (d.platform().isPresent()) {
            g.writeFieldName("platform");
            platform(g, d.platform().get());
        }
        optionalString(g, "artifactType", d.artifactType().map(MediaType::value));
        fields(g, d.extra());
        g.writeEndObject();
    }

    private static void platform(JsonGenerator g, Platform pl) throws IOException {
        g.writeStartObject();
        nullableString(g, "architecture", pl.architecture());
        nullableString(g, "os", pl.os());
        optionalString(g, "os.version", pl.osVersion());
        if (!pl.osFeatures().isEmpty()) {
            g.writeFieldName("os.features");
            stringList(g, pl.osFeatures());
        }
        optionalString(g, "variant", pl.variant());
        fields(g, pl.extra());
        g.writeEndObject();
    }

    private static void manifest(JsonGenerator g, Manifest m) throws IOException {
        documentHead(g, m.schemaVersion(), m.mediaType(), m.artifactType());
        g.writeFieldName("config");
        descriptor(g, m.config());
        g.writeFieldName("layers");
        descriptors(g, m.layers());
        documentTail(g, m.subject(), m.annotations(), m.extra());
    }

    private static void index(JsonGenerator g, ImageIndex i) throws IOException {
        documentHead(g, i.schemaVersion(), i.mediaType(), i.artifactType());
        g.writeFieldName("manifests");
        descriptors(g, i.manifests());
        documentTail(g, i.subject(), i.annotations(), i.extra());
    }

    /** What a manifest and an index start with, in their declaration order. */
    private static void documentHead(JsonGenerator g, int schemaVersion, Optional<MediaType> mediaType,
                                     Optional<MediaType> artifactType) throws IOException {
        g.writeStartObject();
        g.writeNumberField("schemaVersion", schemaVersion);
        optionalString(g, "mediaType", mediaType.map(MediaType::value));
        optionalString(g, "artifactType", artifactType.map(MediaType::value));
    }

    /** What a manifest and an index end with. */
    private static void documentTail(JsonGenerator g, Optional<Descriptor> subject, Map<String, String> annotations,
                                     Map<String, Object> extra) throws IOException {
        if (subject.isPresent()) {
            g.writeFieldName("subject");
            descriptor(g, subject.get());
        }
        if (!annotations.isEmpty()) {
            g.writeFieldName("annotations");
            map(g, annotations);
        }
        fields(g, extra);
        g.writeEndObject();
    }

    private static void imageConfig(JsonGenerator g, ImageConfig c) throws IOException {
        g.writeStartObject();
        optionalString(g, "created", c.created());
        optionalString(g, "author", c.author());
        g.writeStringField("architecture", c.architecture());
        g.writeStringField("os", c.os());
        optionalString(g, "os.version", c.osVersion());
        if (!c.osFeatures().isEmpty()) {
            g.writeFieldName("os.features");
            stringList(g, c.osFeatures());
        }
        optionalString(g, "variant", c.variant());
        if (c.config().isPresent()) {
            g.writeFieldName("config");
            containerConfig(g, c.config().get());
        }
        g.writeFieldName("rootfs");
        g.writeStartObject();
        nullableString(g, "type", c.rootfs().type());
        g.writeFieldName("diff_ids");
        g.writeStartArray();
        for (Digest d : c.rootfs().diffIds()) {
            if (d == null) {
                g.writeNull();
            } else {
                g.writeString(d.toString());
            }
        }
        g.writeEndArray();
        g.writeEndObject();
        if (!c.history().isEmpty()) {
            g.writeFieldName("history");
            g.writeStartArray();
            for (ImageConfig.History h : c.history()) {
                if (h == null) {
                    g.writeNull();
                    continue;
                }
                g.writeStartObject();
                optionalString(g, "created", h.created());
                optionalString(g, "created_by", h.createdBy());
                optionalString(g, "author", h.author());
                optionalString(g, "comment", h.comment());
                if (h.emptyLayer().isPresent()) {
                    g.writeBooleanField("empty_layer", h.emptyLayer().get());
                }
                fields(g, h.extra());
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        fields(g, c.extra());
        g.writeEndObject();
    }

    private static void containerConfig(JsonGenerator g, ContainerConfig c) throws IOException {
        g.writeStartObject();
        optionalString(g, "User", c.user());
        if (!c.exposedPorts().isEmpty()) {
            g.writeFieldName("ExposedPorts");
            map(g, c.exposedPorts());
        }
        if (!c.env().isEmpty()) {
            g.writeFieldName("Env");
            stringList(g, c.env());
        }
        if (c.entrypoint().isPresent()) {
            g.writeFieldName("Entrypoint");
            stringList(g, c.entrypoint().get());
        }
        if (c.cmd().isPresent()) {
            g.writeFieldName("Cmd");
            stringList(g, c.cmd().get());
        }
        if (c.healthcheck().isPresent()) {
            ContainerConfig.HealthCheck h = c.healthcheck().get();
            g.writeFieldName("Healthcheck");
            g.writeStartObject();
            if (!h.test().isEmpty()) {
                g.writeFieldName("Test");
                stringList(g, h.test());
            }
            optionalNumber(g, "Interval", h.interval());
            optionalNumber(g, "Timeout", h.timeout());
            optionalNumber(g, "StartPeriod", h.startPeriod());
            optionalNumber(g, "StartInterval", h.startInterval());
            if (h.retries().isPresent()) {
                g.writeNumberField("Retries", h.retries().get());
            }
            g.writeEndObject();
        }
        if (c.argsEscaped().isPresent()) {
            g.writeBooleanField("ArgsEscaped", c.argsEscaped().get());
        }
        if (!c.volumes().isEmpty()) {
            g.writeFieldName("Volumes");
            map(g, c.volumes());
        }
        optionalString(g, "WorkingDir", c.workingDir());
        if (!c.labels().isEmpty()) {
            g.writeFieldName("Labels");
            map(g, c.labels());
        }
        if (!c.onBuild().isEmpty()) {
            g.writeFieldName("OnBuild");
            stringList(g, c.onBuild());
        }
        optionalString(g, "StopSignal", c.stopSignal());
        if (!c.shell().isEmpty()) {
            g.writeFieldName("Shell");
            stringList(g, c.shell());
        }
        fields(g, c.extra());
        g.writeEndObject();
    }

    // ------------------------------------------------------------------ values

    private interface Reader<T> {
        T read(JsonParser p) throws IOException;
    }

    private static boolean nullValue(JsonParser p) {
        return p.currentToken() == JsonToken.VALUE_NULL;
    }

    private static void startObject(JsonParser p, String what) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw mismatch(p, what + " must be a JSON object");
        }
    }

    private static IOException mismatch(JsonParser p, String message) {
        return new com.fasterxml.jackson.core.exc.InputCoercionException(p, message, p.currentToken(), Object.class);
    }

    private static <T> List<T> list(JsonParser p, String name, Reader<T> element) throws IOException {
        if (nullValue(p)) {
            return null;
        }
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw mismatch(p, "\"" + name + "\" must be a JSON array");
        }
        List<T> out = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
            out.add(element.read(p));
        }
        return out;
    }

    private static List<String> strings(JsonParser p, String name) throws IOException {
        return list(p, name, q -> string(q, name));
    }

    private static List<Descriptor> descriptors(JsonParser p, String name) throws IOException {
        return list(p, name, ModelCodec::descriptor);
    }

    private static Map<String, String> stringMap(JsonParser p, String name) throws IOException {
        if (nullValue(p)) {
            return null;
        }
        startObject(p, "\"" + name + "\"");
        Map<String, String> out = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            out.put(key, string(p, name));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> objectMap(JsonParser p, String name) throws IOException {
        if (nullValue(p)) {
            return null;
        }
        startObject(p, "\"" + name + "\"");
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            if (!nullValue(p)) {
                startObject(p, "\"" + name + "\" entry " + key);
            }
            out.put(key, (Map<String, Object>) value(p));
        }
        return out;
    }

    /** A string; other scalars as their text (data binding's coercion); null stays null. */
    private static String string(JsonParser p, String name) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING || t.isScalarValue() && t != JsonToken.VALUE_NULL
                && t != JsonToken.VALUE_EMBEDDED_OBJECT) {
            return p.getText();
        }
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        throw mismatch(p, "\"" + name + "\" must be a string");
    }

    private static MediaType mediaType(JsonParser p) throws IOException {
        String s = string(p, "mediaType");
        return s == null ? null : MediaType.of(s);
    }

    private static Digest digest(JsonParser p) throws IOException {
        String s = string(p, "digest");
        return s == null ? null : Digest.parse(s);
    }

    private static long longValue(JsonParser p, String name) throws IOException {
        return optionalLong(p, name).orElse(0L);
    }

    /** An integer: a JSON number (a fraction is truncated) or a string holding one; null is absent. */
    private static Optional<Long> optionalLong(JsonParser p, String name) throws IOException {
        switch (p.currentToken()) {
            case VALUE_NULL -> {
                return Optional.empty();
            }
            case VALUE_NUMBER_INT -> {
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw mismatch(p, "\"" + name + "\" is out of range: " + p.getText());
                }
                return Optional.of(p.getLongValue());
            }
            case VALUE_NUMBER_FLOAT -> {
                return Optional.of((long) p.getDoubleValue());
            }
            case VALUE_STRING -> {
                String s = p.getText().trim();
                if (s.isEmpty()) {
                    return Optional.empty();
                }
                try {
                    return Optional.of(Long.parseLong(s));
                } catch (NumberFormatException e) {
                    throw mismatch(p, "\"" + name + "\" must be a number, not \"" + p.getText() + "\"");
                }
            }
            default -> throw mismatch(p, "\"" + name + "\" must be a number");
        }
    }

    private static Boolean bool(JsonParser p, String name) throws IOException {
        switch (p.currentToken()) {
            case VALUE_NULL -> {
                return null;
            }
            case VALUE_TRUE -> {
                return true;
            }
            case VALUE_FALSE -> {
                return false;
            }
            case VALUE_STRING -> {
                String s = p.getText().trim();
                if (s.equalsIgnoreCase("true")) {
                    return true;
                }
                if (s.equalsIgnoreCase("false")) {
                    return false;
                }
                if (s.isEmpty()) {
                    return null;
                }
                throw mismatch(p, "\"" + name + "\" must be true or false, not \"" + p.getText() + "\"");
            }
            case VALUE_NUMBER_INT -> {
                return p.getLongValue() != 0;
            }
            default -> throw mismatch(p, "\"" + name + "\" must be true or false");
        }
    }

    /** Any JSON value as plain Java: LinkedHashMap, ArrayList, String, Integer/Long/BigInteger, Double, Boolean, null. */
    static Object value(JsonParser p) throws IOException {
        switch (p.currentToken()) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    p.nextToken();
                    m.put(key, value(p));
                }
                return m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    l.add(value(p));
                }
                return l;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT -> {
                return p.getNumberValue();
            }
            case VALUE_NUMBER_FLOAT -> {
                return p.getDoubleValue();
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return null;
            }
            default -> throw mismatch(p, "unexpected " + p.currentToken());
        }
    }

    private static void nullableString(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) {
            g.writeStringField(name, value);
        }
    }

    private static void optionalString(JsonGenerator g, String name, Optional<String> value) throws IOException {
        if (value.isPresent()) {
            g.writeStringField(name, value.get());
        }
    }

    private static void optionalNumber(JsonGenerator g, String name, Optional<Long> value) throws IOException {
        if (value.isPresent()) {
            g.writeNumberField(name, value.get());
        }
    }

    private static void stringList(JsonGenerator g, List<String> values) throws IOException {
        g.writeStartArray();
        for (String s : values) {
            if (s == null) {
                g.writeNull();
            } else {
                g.writeString(s);
            }
        }
        g.writeEndArray();
    }

    private static void descriptors(JsonGenerator g, List<Descriptor> values) throws IOException {
        g.writeStartArray();
        for (Descriptor d : values) {
            if (d == null) {
                g.writeNull();
            } else {
                descriptor(g, d);
            }
        }
        g.writeEndArray();
    }

    /**
     * A record's map-valued field (annotations, labels, ports, volumes) as an object, null values included:
     * the field's own inclusion rule (non-empty) replaces the mapper's content rule.
     */
    private static void map(JsonGenerator g, Map<String, ?> map) throws IOException {
        g.writeStartObject();
        for (Map.Entry<String, ?> e : map.entrySet()) {
            g.writeFieldName(e.getKey());
            value(g, e.getValue());
        }
        g.writeEndObject();
    }

    /**
     * A record's {@code extra} as fields of the object being written, in their order; null values are left
     * out, as the mapper's content rule (non-absent) leaves them out of every untyped map.
     */
    private static void fields(JsonGenerator g, Map<String, ?> map) throws IOException {
        for (Map.Entry<String, ?> e : map.entrySet()) {
            if (e.getValue() != null) {
                g.writeFieldName(e.getKey());
                value(g, e.getValue());
            }
        }
    }

    /** A plain Java value as JSON: maps, collections, strings, numbers, booleans, null. */
    static void value(JsonGenerator g, Object v) throws IOException {
        switch (v) {
            case null -> g.writeNull();
            case String s -> g.writeString(s);
            case Integer i -> g.writeNumber(i);
            case Long l -> g.writeNumber(l);
            case Double d -> g.writeNumber(d);
            case BigInteger b -> g.writeNumber(b);
            case BigDecimal b -> g.writeNumber(b);
            case Boolean b -> g.writeBoolean(b);
            case Map<?, ?> m -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (e.getValue() != null) {
                        g.writeFieldName(String.valueOf(e.getKey()));
                        value(g, e.getValue());
                    }
                }
                g.writeEndObject();
            }
            case Collection<?> c -> {
                g.writeStartArray();
                for (Object o : c) {
                    value(g, o);
                }
                g.writeEndArray();
            }
            case Optional<?> o -> value(g, o.orElse(null));
            case Number n -> g.writeNumber(n.toString());
            default -> write(g, v);
        }
    }
}

package dev.berth.layers;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * The one Jackson configuration for every JSON document berth reads or writes. Reading is lenient about
 * unknown fields (records keep them in their {@code extra} map, so a re-serialisation loses nothing);
 * writing is compact, in declaration order, and leaves out absent optionals, so the same record always
 * gives the same bytes. The image model's records ({@link ModelCodec}) are read and written with the
 * streaming API, to the same result: data binding's start-up costs a short-lived JVM more than the rest of
 * most commands.
 */
public final class Json {
    /**
     * Data binding, for documents other than the image model's records and for trees ({@code readTree}).
     * Made on first use: building it costs a cold JVM tens of milliseconds that most commands need not pay.
     */
    public static ObjectMapper mapper() {
        return Bound.MAPPER;
    }

    private static final class Bound {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .addModule(new Jdk8Module())
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .disable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
                .serializationInclusion(JsonInclude.Include.NON_ABSENT)
                .build();
    }

    /** The streaming API's factory, configured as the mapper's. */
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    private Json() {}

    /** Parses bytes into a record; a malformed document is a {@link LayersException} naming {@code what}. */
    public static <T> T read(byte[] bytes, Class<T> type, String what) {
        if (bytes.length == 0) {
            throw new LayersException(what + ": empty file, expected JSON");
        }
        try {
            if (ModelCodec.handles(type)) {
                return type.cast(readModel(bytes, type));
            }
            return Bound.MAPPER.readValue(bytes, type);
        } catch (LayersException | IOException e) {
            throw failure(what, e);
        }
    }

    /** The canonical bytes of a record: compact, fields in declaration order. */
    public static byte[] write(Object value) {
        try {
            if (ModelCodec.handles(value.getClass())) {
                return generate(g -> ModelCodec.write(g, value));
            }
            return Bound.MAPPER.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Parses any JSON document into plain Java values (LinkedHashMap, ArrayList, String, Number, Boolean,
     * null) without data binding; a malformed document is a {@link LayersException} naming {@code what}.
     */
    public static Object readPlain(byte[] bytes, String what) {
        try {
            return parseOne(bytes, ModelCodec::value);
        } catch (LayersException | IOException e) {
            throw failure(what, e);
        }
    }

    /** A document that could not be read, as one line naming {@code what}. */
    private static LayersException failure(String what, Exception e) {
        return e instanceof JsonProcessingException j
                ? new LayersException(what + ": invalid JSON: " + j.getOriginalMessage(), e)
                : new LayersException(what + ": " + e.getMessage(), e);
    }

    /** Writes plain Java values (maps, collections, strings, numbers, booleans) compactly, in map order. */
    public static byte[] writePlain(Object value) {
        try {
            return generate(g -> ModelCodec.value(g, value));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    private interface ValueReader {
        Object read(JsonParser p) throws IOException;
    }

    private interface ValueWriter {
        void write(JsonGenerator g) throws IOException;
    }

    private static Object readModel(byte[] bytes, Class<?> type) throws IOException {
        Object value = parseOne(bytes, p -> ModelCodec.read(p, type));
        if (value == null) {
            throw new LayersException("null, expected a JSON object");
        }
        return value;
    }

    /** Exactly one JSON value, read with the streaming API; anything after it is an error. */
    private static Object parseOne(byte[] bytes, ValueReader reader) throws IOException {
        try (JsonParser p = FACTORY.createParser(bytes)) {
            if (p.nextToken() == null) {
                throw new LayersException("empty file, expected JSON");
            }
            Object value = reader.read(p);
            if (p.nextToken() != null) {
                throw new com.fasterxml.jackson.core.JsonParseException(p,
                        "Trailing token (of type " + p.currentToken() + ") found after value");
            }
            return value;
        }
    }

    private static byte[] generate(ValueWriter writer) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            writer.write(g);
        }
        return out.toByteArray();
    }

    /** Data binding's reading, whatever the type (the oracle {@link ModelCodec} is tested against). */
    static <T> T readBound(byte[] bytes, Class<T> type) throws IOException {
        return Bound.MAPPER.readValue(bytes, type);
    }

    /** Data binding's writing, whatever the type (the oracle {@link ModelCodec} is tested against). */
    static byte[] writeBound(Object value) {
        try {
            return Bound.MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /** Indented JSON for people ({@code inspect}, {@code --format json}). */
    public static String pretty(Object value) {
        try {
            return Bound.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }
}

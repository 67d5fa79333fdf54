package dev.berth.builder.dockerfile;

/** Something legal but doubtful in a Dockerfile, such as an empty line inside a continued instruction. */
public record ParseWarning(Location location, String message) {
    @Override
    public String toString() {
        return location.file() + ":" + location.startLine() + ": " + message;
    }
}

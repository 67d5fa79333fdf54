package dev.berth.builder;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/** What a build reports as it goes, for a progress display: steps starting and finishing, warnings, notes. */
public sealed interface BuildEvent {

    /**
     * One step of the build: a FROM or an instruction of a stage the target needs.
     *
     * @param number from 1, over all the stages built
     * @param total the number of steps of the whole build
     * @param stage the stage's name when the build has several stages
     * @param text the instruction as written (expanded for COPY and ADD)
     */
    record Step(int number, int total, Optional<String> stage, String text) {
        public Step {
            Objects.requireNonNull(stage, "stage");
            Objects.requireNonNull(text, "text");
        }

        /** {@code [2/6] COPY app /app}, or {@code [build 2/6] ...} in a multi-stage build. */
        public String label() {
            return "[" + stage.map(s -> s + " ").orElse("") + number + "/" + total + "] " + text;
        }
    }

    /** A step begins. */
    record StepStarted(Step step) implements BuildEvent {}

    /** A step ended: from the cache, or done in {@code duration}. */
    record StepDone(Step step, boolean cached, Duration duration) implements BuildEvent {}

    /** A line the running step's process wrote (stdout and stderr together), without its line end. */
    record Output(Step step, String line) implements BuildEvent {}

    /**
     * A step failed and the build stops; a display that did not show the step's output as it came shows
     * the end of it now ({@code lastLines}, oldest first). The error itself comes as the build's exception.
     */
    record StepFailed(Step step, java.util.List<String> lastLines) implements BuildEvent {
        public StepFailed {
            lastLines = java.util.List.copyOf(lastLines);
        }
    }

    /** Something the user should know that does not stop the build. */
    record Warning(String message) implements BuildEvent {}

    /** A note about the outputs: {@code writing image sha256:...}, {@code naming to ...}. */
    record Note(String message) implements BuildEvent {}
}

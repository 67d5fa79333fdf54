package dev.berth.runtime;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs test classes of this module as the user this JVM runs as (see {@link RootlessParityTest}): the
 * {@link Fixture} is then rootless, and tests tagged {@value #ROOT_ONLY} are excluded. Prints one line per
 * test ({@code ok NAME}, {@code FAILED NAME: why}, {@code skipped NAME: why}) and a summary; exits 1 when
 * any test failed or none ran. Usage: RootlessSuite CLASS...
 */
public final class RootlessSuite {
    /** The tag of tests that need root by nature (cgroup limits, mounts on the host, runc bundles). */
    public static final String ROOT_ONLY = "root-only";

    private RootlessSuite() {}

    public static void main(String[] args) throws ClassNotFoundException {
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request()
                .filters(TagFilter.excludeTags(ROOT_ONLY));
        for (String name : args) {
            request.selectors(selectClass(Class.forName(name)));
        }
        LauncherDiscoveryRequest built = request.build();
        PrintWriter out = new PrintWriter(System.out, true);
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener lines = new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest()) {
                    result.getThrowable().ifPresent(t -> out.println("FAILED " + id.getDisplayName() + ": " + oneLine(t)));
                    return;
                }
                String type = id.getUniqueIdObject().getSegments().get(1).getValue();
                String name = type.substring(type.lastIndexOf('.') + 1) + "." + id.getDisplayName();
                switch (result.getStatus()) {
                    case SUCCESSFUL -> out.println("ok " + name);
                    default -> out.println("FAILED " + name + ": " + result.getThrowable().map(RootlessSuite::oneLine)
                            .orElse("?"));
                }
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                out.println("skipped " + id.getDisplayName() + ": " + reason);
            }
        };
        LauncherFactory.create().execute(built, summary, lines);
        TestExecutionSummary s = summary.getSummary();
        out.println("tests " + s.getTestsFoundCount() + ", succeeded " + s.getTestsSucceededCount() + ", failed "
                + s.getTotalFailureCount() + ", skipped " + s.getTestsSkippedCount() + ", aborted "
                + s.getTestsAbortedCount());
        s.getFailures().forEach(f -> {
            System.err.println("--- " + f.getTestIdentifier().getDisplayName());
            f.getException().printStackTrace(System.err);
        });
        out.flush();
        System.exit(s.getTotalFailureCount() == 0 && s.getTestsSucceededCount() > 0 && s.getTestsAbortedCount() == 0
                && s.getTestsSkippedCount() == 0 ? 0 : 1);
    }

    private static String oneLine(Throwable t) {
        String s = t.toString().replaceAll("\\s+", " ");
        return s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }
}

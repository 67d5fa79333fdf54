import dev.berth.layers.BerthHome;
import dev.berth.runtime.ContainerRuntime;
import dev.berth.runtime.RunOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Container starts measured inside one JVM, so JVM start-up is left out: `run --rm IMAGE true` for each
 * image in turn, alternating, RUNS times each; prints the median milliseconds per image.
 * Usage: java -cp cli/target/berth.jar bench/lib/StartTimes.java HOME RUNS IMAGE...
 */
public class StartTimes {
    public static void main(String[] args) {
        ContainerRuntime rt = ContainerRuntime.open(new BerthHome(Path.of(args[0])));
        int runs = Integer.parseInt(args[1]);
        List<String> images = List.of(args).subList(2, args.length);
        List<List<Double>> times = new ArrayList<>();
        images.forEach(i -> times.add(new ArrayList<>()));
        for (int warm = 0; warm < 5; warm++) {
            images.forEach(i -> run(rt, i));
        }
        for (int r = 0; r < runs; r++) {
            for (int i = 0; i < images.size(); i++) {
                long t0 = System.nanoTime();
                run(rt, images.get(i));
                times.get(i).add((System.nanoTime() - t0) / 1e6);
            }
        }
        for (int i = 0; i < images.size(); i++) {
            List<Double> t = times.get(i);
            Collections.sort(t);
            System.out.printf("%s %.1f%n", images.get(i), t.get(t.size() / 2));
        }
    }

    private static void run(ContainerRuntime rt, String image) {
        int code = rt.run(image, RunOptions.builder().remove(true).command("true").build()).exitCode();
        if (code != 0) {
            throw new IllegalStateException(image + " exited with " + code);
        }
    }
}

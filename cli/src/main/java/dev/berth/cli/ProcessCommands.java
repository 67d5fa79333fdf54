package dev.berth.cli;

import dev.berth.runtime.ContainerControl;
import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerInfo;
import dev.berth.runtime.ContainerStats;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth top} and {@code berth stats}: a running container's processes and what they use (see {@link ContainerStats}). */
final class ProcessCommands {
    private ProcessCommands() {}

    @Command(name = "top", description = "Show a running container's processes (the host's ps, default -ef).")
    static final class Top implements Callable<Integer>, ContainerOptions.TakesCommand {
        @Parameters(index = "0", paramLabel = "CONTAINER", description = "A running container's name or id.",
                preprocessor = ContainerOptions.RestIsCommand.class)
        String name;

        @Parameters(index = "1..*", paramLabel = "PS-OPTIONS", description = "Options for ps (default: -ef).")
        List<String> psOptions = new ArrayList<>();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void command(List<String> args) {
            psOptions = new ArrayList<>(args);
        }

        @Override
        public Integer call() throws IOException, InterruptedException {
            Set<Long> pids;
            try {
                pids = new HashSet<>(ContainerVerbs.runtime().control().stats(name).pids());
            } catch (ContainerException e) {
                throw new ContainerFailure(e);
            }
            List<String> cmd = new ArrayList<>(List.of("ps"));
            cmd.addAll(psOptions.isEmpty() ? List.of("-ef") : psOptions);
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new ContainerFailure(new ContainerException(1, "top " + name + ": berth top runs the host's ps "
                        + "(Debian: procps): " + e.getMessage()));
            }
            List<String> lines = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                    .lines().toList();
            if (p.waitFor() != 0 || lines.isEmpty()) {
                throw new ContainerFailure(new ContainerException(1, "top " + name + ": ps " + String.join(" ", cmd
                        .subList(1, cmd.size())) + " failed: " + String.join(" ", lines)));
            }
            List<String> header = List.of(lines.getFirst().trim().split("\\s+"));
            int column = header.indexOf("PID");
            if (column < 0) {
                throw new ContainerFailure(new ContainerException(1, "top " + name + ": ps's output has no PID column"));
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println(lines.getFirst());
            for (String l : lines.subList(1, lines.size())) {
                String[] f = l.trim().split("\\s+");
                if (f.length > column && f[column].matches("\\d+") && pids.contains(Long.parseLong(f[column]))) {
                    out.println(l);
                }
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "stats", description = "Show what running containers use: CPU, memory, network, block I/O, pids.")
    static final class Stats implements Callable<Integer> {
        @Option(names = "--no-stream", description = "Print one sample and exit (default: a new one every second).")
        boolean noStream;

        @Parameters(arity = "0..*", paramLabel = "CONTAINER", description = "Names or ids (default: every running one).")
        List<String> names = new ArrayList<>();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            ContainerControl control = ContainerVerbs.runtime().control();
            PrintWriter out = spec.commandLine().getOut();
            List<String> which = names.isEmpty()
                    ? ContainerVerbs.runtime().list(false).stream().map(ContainerInfo::name).toList() : names;
            List<ContainerStats> before = sample(control, which);
            long t0 = System.nanoTime();
            do {
                Thread.sleep(noStream ? 500 : 1000);
                List<ContainerStats> now = sample(control, which);
                double seconds = (System.nanoTime() - t0) / 1e9;
                t0 = System.nanoTime();
                String format = "%-14s %-20s %-8s %-22s %-7s %-18s %-18s %s%n";
                out.printf(format, "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
                        "BLOCK I/O", "PIDS");
                for (int i = 0; i < now.size(); i++) {
                    ContainerStats s = now.get(i);
                    ContainerStats b = before.get(i);
                    double cpu = Math.max(0, s.cpuTicks() - b.cpuTicks()) * 100.0
                            / ContainerStats.TICKS_PER_SECOND / seconds;
                    out.printf(format, s.id().substring(0, 12), s.name(), String.format(Locale.ROOT, "%.2f%%", cpu),
                            binary(s.memoryUsage()) + " / " + binary(s.memoryLimit()),
                            String.format(Locale.ROOT, "%.2f%%", s.memoryUsage() * 100.0 / s.memoryLimit()),
                            Format.size(s.netReceived()) + " / " + Format.size(s.netSent()),
                            Format.size(s.blockRead()) + " / " + Format.size(s.blockWritten()), s.pids().size());
                }
                out.flush();
                before = now;
            } while (!noStream);
            return 0;
        }

        private static List<ContainerStats> sample(ContainerControl control, List<String> names) {
            try {
                List<ContainerStats> out = new ArrayList<>();
                for (String n : names) {
                    out.add(control.stats(n));
                }
                return out;
            } catch (ContainerException e) {
                throw new ContainerFailure(e);
            }
        }

        /** docker's memory figures: binary units, {@code 1.5MiB}. */
        private static String binary(long bytes) {
            String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
            double v = bytes;
            int u = 0;
            while (v >= 1024 && u < units.length - 1) {
                v /= 1024;
                u++;
            }
            return u == 0 ? bytes + "B" : String.format(Locale.ROOT, "%.2f%s", v, units[u]);
        }
    }
}

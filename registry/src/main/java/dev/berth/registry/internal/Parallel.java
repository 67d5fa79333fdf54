package dev.berth.registry.internal;

import dev.berth.registry.RegistryException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs blob transfers at once, each on a virtual thread (the registry's own cap on concurrent transfers
 * is taken inside each task): the first failure stops the others and is thrown, as it came.
 */
final class Parallel {
    private Parallel() {}

    /** A transfer that may fail with a checked exception. */
    @FunctionalInterface
    interface Task {
        void run() throws Exception;
    }

    static void runAll(List<Task> tasks) {
        try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
            ExecutorCompletionService<Void> done = new ExecutorCompletionService<>(exec);
            List<Future<Void>> futures = new ArrayList<>();
            for (Task task : tasks) {
                futures.add(done.submit(() -> {
                    task.run();
                    return null;
                }));
            }
            for (int i = 0; i < futures.size(); i++) {
                try {
                    done.take().get();
                } catch (ExecutionException e) {
                    futures.forEach(f -> f.cancel(true));
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new RegistryException(e.getCause().toString(), e.getCause());
                } catch (InterruptedException e) {
                    futures.forEach(f -> f.cancel(true));
                    Thread.currentThread().interrupt();
                    throw new RegistryException("interrupted", e);
                }
            }
        }
    }
}

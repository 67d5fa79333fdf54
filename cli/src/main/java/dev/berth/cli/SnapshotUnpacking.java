package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.registry.LayerUnpacker;
import dev.berth.registry.PullOptions;
import dev.berth.runtime.SnapshotStore;

/**
 * Wires the runtime's snapshots into a pull ({@link LayerUnpacker}): as root, each layer a pull downloads is
 * extracted into its snapshot in the same pass that checks it, as podman's pull does, so that the first
 * {@code berth run} of a pulled image extracts nothing. Rootless snapshots are extracted in the user's
 * namespace, by {@code berth run}; a pull of a whole index ({@code --all-platforms}) is stored only.
 */
final class SnapshotUnpacking {
    private SnapshotUnpacking() {}

    static PullOptions into(PullOptions options, BerthHome home) {
        if (!BerthHome.isRoot() || options.allPlatforms()) {
            return options;
        }
        SnapshotStore snapshots = SnapshotStore.of(home);
        snapshots.cleanTemp(); // what a killed pull's extractions left
        return options.withUnpacker((layer, blob) -> {
            SnapshotStore.Aside aside = snapshots.unpackAside(blob, "layer " + layer.digest());
            return new LayerUnpacker.Unpacked() {
                @Override
                public void keep() {
                    try {
                        aside.keep();
                    } catch (dev.berth.runtime.ContainerException e) {
                        // the snapshot is lost, not the pull: berth run extracts the layer when it needs it
                    }
                }

                @Override
                public void discard() {
                    aside.discard();
                }
            };
        });
    }
}

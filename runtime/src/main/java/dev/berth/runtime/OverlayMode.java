package dev.berth.runtime;

/**
 * How the helper passes the lower layers to overlayfs. {@link #AUTO} uses {@code lowerdir+} through the new
 * mount API (Linux 6.8+, no limit on the number of layers) and falls back to {@link #FD_PATHS}: layers
 * opened by the helper and named by descriptor number, which keeps the option string under the one-page
 * limit of {@code mount(2)} for hundreds of layers. The explicit modes exist for tests and odd kernels.
 */
public enum OverlayMode {
    AUTO, FSCONFIG, FD_PATHS
}

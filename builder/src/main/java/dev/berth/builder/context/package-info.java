/**
 * The build context side of the Dockerfile syntax: {@link dev.berth.builder.context.DockerIgnore} (which
 * context paths a build may see) and {@link dev.berth.builder.context.Wildcard} (Go's {@code filepath.Match}
 * patterns, as COPY and ADD sources use them).
 */
package dev.berth.builder.context;

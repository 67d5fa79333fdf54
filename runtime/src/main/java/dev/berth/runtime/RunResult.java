package dev.berth.runtime;

import java.util.OptionalInt;

/**
 * How a container ended.
 *
 * @param exitCode docker's exit code: the command's status, or 128+N when signal N killed it
 * @param signal the signal that killed the command, if one did
 * @param oomKilled whether the kernel's OOM killer killed a process of the container (its memory limit)
 */
public record RunResult(String id, String name, int exitCode, OptionalInt signal, boolean oomKilled) {}

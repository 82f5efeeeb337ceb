package io.jbouncer.config;

import org.jspecify.annotations.Nullable;

/** One {@code [users]} entry; {@code null} or 0 means "not set here". */
public record UserSettings(
    String name,
    @Nullable PoolMode poolMode,
    @Nullable Integer poolSize,
    @Nullable Integer reservePoolSize,
    int maxUserConnections,
    int maxUserClientConnections) {}

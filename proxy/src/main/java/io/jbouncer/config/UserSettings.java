package io.jbouncer.config;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * One {@code [users]} entry; {@code null} or 0 means "not set here".
 *
 * @param queryTimeout {@code null} = not set here (PgBouncer treats a per-user 0 the same way)
 * @param queryWaitTimeout {@code null} = not set here (PgBouncer's -1); zero disables the timeout
 * @param idleTransactionTimeout {@code null} = not set here (per-user 0 included)
 * @param transactionTimeout {@code null} = not set here (per-user 0 included)
 * @param clientIdleTimeout {@code null} = not set here (per-user 0 included)
 */
public record UserSettings(
    String name,
    @Nullable PoolMode poolMode,
    @Nullable Integer poolSize,
    @Nullable Integer reservePoolSize,
    int maxUserConnections,
    int maxUserClientConnections,
    // appended with the config loader
    @Nullable Duration queryTimeout,
    @Nullable Duration queryWaitTimeout,
    @Nullable Duration idleTransactionTimeout,
    @Nullable Duration transactionTimeout,
    @Nullable Duration clientIdleTimeout) {}

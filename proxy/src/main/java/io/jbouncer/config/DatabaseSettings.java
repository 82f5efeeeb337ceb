package io.jbouncer.config;

import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One {@code [databases]} entry. {@code null} means "not set here": the global setting applies.
 *
 * @param name the name clients connect to ({@code *} for the fallback entry)
 * @param host server host name or address; {@code null} when unset
 * @param dbname the database on the server; {@code null} = the name the client asked for
 * @param user forced server user: every client of this database shares one pool as this user
 * @param password password for the server login instead of the auth_file one
 * @param port {@code jbouncer.database_defaults.port} (5432) unless set
 * @param poolSize {@code pool_size}; 0 = unlimited (PgBouncer 1.24+)
 * @param reservePoolSize {@code reserve_pool_size} or its older alias {@code reserve_pool}
 * @param maxDbConnections 0 = not set here
 * @param maxDbClientConnections 0 = not set here
 * @param serverLifetime seconds
 * @param startupParameters client_encoding, datestyle, timezone and application_name from the
 *     entry, under the names the server expects in its startup packet (client_encoding, DateStyle,
 *     TimeZone, application_name)
 * @param queryWaitTimeout {@code null} = not set here (PgBouncer's -1); zero disables the timeout
 */
public record DatabaseSettings(
    String name,
    @Nullable String host,
    int port,
    @Nullable String dbname,
    @Nullable String user,
    @Nullable String password,
    @Nullable Integer poolSize,
    @Nullable Integer minPoolSize,
    @Nullable Integer reservePoolSize,
    @Nullable PoolMode poolMode,
    int maxDbConnections,
    int maxDbClientConnections,
    @Nullable Integer serverLifetime,
    Map<String, String> startupParameters,
    @Nullable String connectQuery,
    @Nullable String authUser,
    @Nullable String authQuery,
    @Nullable String authDbname,
    // appended with the config loader
    @Nullable Duration queryWaitTimeout,
    LoadBalanceHosts loadBalanceHosts,
    // jbouncer's own; null = the [pgbouncer] section's
    @Nullable SessionStatePolicy sessionState) {}

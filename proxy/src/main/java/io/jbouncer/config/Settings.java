package io.jbouncer.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The whole configuration, immutable and validated at start-up; passed by constructor, never fetched
 * from a global. Names follow PgBouncer's {@code [pgbouncer]} keys; defaults live only in {@code
 * reference.conf}. Built by {@link ConfigLoader} from pgbouncer.ini or HOCON.
 *
 * @param workerThreads jbouncer's own key {@code worker_threads}: event loops, 0 = one per core
 * @param databases the {@code [databases]} entries by name, including {@code *} when present
 * @param users the {@code [users]} entries by name
 */
public record Settings(
    @Nullable Path configFile,
    List<String> listenAddr,
    int listenPort,
    int listenBacklog,
    AuthType authType,
    @Nullable Path authFile,
    PoolMode poolMode,
    int defaultPoolSize,
    int minPoolSize,
    int reservePoolSize,
    int maxClientConn,
    int maxDbConnections,
    int maxUserConnections,
    String serverResetQuery,
    boolean serverResetQueryAlways,
    Set<String> ignoreStartupParameters,
    Duration serverConnectTimeout,
    Duration serverLoginRetry,
    Duration clientLoginTimeout,
    Duration serverIdleTimeout,
    Duration serverLifetime,
    Duration queryWaitTimeout,
    int maxPacketSize,
    int pktBuf,
    List<String> adminUsers,
    List<String> statsUsers,
    boolean logConnections,
    boolean logDisconnections,
    boolean logPoolerErrors,
    boolean applicationNameAddHost,
    int workerThreads,
    Map<String, DatabaseSettings> databases,
    Map<String, UserSettings> users) {

  /** The entry for {@code name}, else the {@code *} fallback entry, else {@code null}. */
  public @Nullable DatabaseSettings database(String name) {
    DatabaseSettings db = databases.get(name);
    return db != null ? db : databases.get("*");
  }
}

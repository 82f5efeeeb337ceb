package io.jbouncer.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The whole configuration, immutable and validated at start-up; passed by constructor, never
 * fetched from a global. Names follow PgBouncer's {@code [pgbouncer]} keys; defaults live only in
 * {@code reference.conf}. Built by {@link ConfigLoader} from pgbouncer.ini or HOCON.
 *
 * <p>Times are PgBouncer's decimal seconds turned into {@link Duration}s; 0 disables a timeout, as
 * in PgBouncer. Files are resolved against the config file's directory; {@code null} = not set.
 *
 * @param configFile the file RELOAD reads: {@code conffile} if set, else the file loaded
 * @param listenAddr {@code listen_addr} split at commas; empty = no TCP listener (PgBouncer's
 *     default), {@code *} = every address
 * @param workerThreads jbouncer's own key {@code worker_threads}: event loops, 0 = one per core
 * @param databases the {@code [databases]} entries by name, sorted, including {@code *} when
 *     present
 * @param users the {@code [users]} entries by name, sorted
 * @param serverCheckQuery as written: "" = no check, {@code <empty>} = send an empty query
 * @param authQuery the query used with {@code auth_user} to look up passwords
 * @param unixSocketDir directory of the listening socket {@code .s.PGSQL.<port>}, {@code @name} for
 *     an abstract socket; {@code null} = no Unix socket
 * @param unixSocketMode permission bits of that socket (0777 by default)
 * @param loginNotifyMessage NOTICE sent after login; {@code null} = none
 * @param params every {@code [pgbouncer]} key in SHOW CONFIG order, for the admin console
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
    Map<String, UserSettings> users,
    // appended with the config loader; same names as PgBouncer's keys
    Duration queryTimeout,
    Duration queryWaitNotify,
    Duration cancelWaitTimeout,
    Duration clientIdleTimeout,
    Duration idleTransactionTimeout,
    Duration transactionTimeout,
    Duration autodbIdleTimeout,
    Duration poolIdleTimeout,
    Duration suspendTimeout,
    Duration reservePoolTimeout,
    Duration serverCheckDelay,
    String serverCheckQuery,
    boolean serverFastClose,
    boolean serverRoundRobin,
    int maxDbClientConnections,
    int maxUserClientConnections,
    int maxPreparedStatements,
    int sbufLoopcnt,
    Duration statsPeriod,
    boolean logStats,
    int verbose,
    @Nullable Path authHbaFile,
    @Nullable Path authIdentFile,
    @Nullable String authUser,
    String authQuery,
    @Nullable String authDbname,
    int scramIterations,
    boolean disablePqexec,
    Set<String> trackExtraParameters,
    @Nullable String loginNotifyMessage,
    @Nullable String unixSocketDir,
    int unixSocketMode,
    boolean soReuseport,
    boolean tcpDeferAccept,
    boolean tcpKeepalive,
    int tcpKeepcnt,
    int tcpKeepidle,
    int tcpKeepintvl,
    int tcpUserTimeout,
    int tcpSocketBuffer,
    TlsSettings clientTls,
    TlsSettings serverTls,
    @Nullable Path logfile,
    @Nullable Path pidfile,
    int peerId,
    Duration dnsMaxTtl,
    Duration dnsNxdomainTtl,
    SessionStatePolicy sessionState,
    boolean deferBegin,
    List<ConfigParam> params) {

  /** The entry for {@code name}, else the {@code *} fallback entry, else {@code null}. */
  public @Nullable DatabaseSettings database(String name) {
    DatabaseSettings db = databases.get(name);
    return db != null ? db : databases.get("*");
  }
}

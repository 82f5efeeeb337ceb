package io.jbouncer.config;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The keys of PgBouncer 1.25's {@code [pgbouncer]} section (plus jbouncer's {@code
 * worker_threads}), in SHOW CONFIG order, with the type of their value and whether RELOAD may
 * change them. Defaults live in {@code reference.conf}, never here; a test checks that both list
 * the same keys.
 */
enum Param {
  ADMIN_USERS(Type.LIST),
  APPLICATION_NAME_ADD_HOST(Type.BOOL),
  AUTH_DBNAME(Type.STRING),
  AUTH_FILE(Type.PATH),
  AUTH_HBA_FILE(Type.PATH),
  AUTH_IDENT_FILE(Type.PATH),
  AUTH_LDAP_OPTIONS(Type.STRING),
  AUTH_QUERY(Type.STRING),
  AUTH_TYPE(choices(AuthType.values(), AuthType::iniName)),
  AUTH_USER(Type.STRING),
  AUTODB_IDLE_TIMEOUT(Type.DURATION),
  CANCEL_WAIT_TIMEOUT(Type.DURATION),
  CLIENT_IDLE_TIMEOUT(Type.DURATION),
  CLIENT_LOGIN_TIMEOUT(Type.DURATION),
  CLIENT_TLS13_CIPHERS(Type.STRING),
  CLIENT_TLS_CA_FILE(Type.PATH),
  CLIENT_TLS_CERT_FILE(Type.PATH),
  CLIENT_TLS_CIPHERS(Type.STRING),
  CLIENT_TLS_DHEPARAMS(List.of("none", "auto", "legacy")),
  CLIENT_TLS_ECDHCURVE(Type.STRING),
  CLIENT_TLS_KEY_FILE(Type.PATH),
  CLIENT_TLS_PROTOCOLS(Type.STRING),
  CLIENT_TLS_SSLMODE(choices(SslMode.values(), SslMode::iniName)),
  CONFFILE(Type.PATH),
  DEFAULT_POOL_SIZE(Type.INT),
  DISABLE_PQEXEC(Type.BOOL),
  DNS_MAX_TTL(Type.DURATION),
  DNS_NXDOMAIN_TTL(Type.DURATION),
  DNS_ZONE_CHECK_PERIOD(Type.DURATION),
  IDLE_TRANSACTION_TIMEOUT(Type.DURATION),
  IGNORE_STARTUP_PARAMETERS(Type.LIST),
  JOB_NAME(Type.STRING),
  LISTEN_ADDR(Type.LIST),
  LISTEN_BACKLOG(Type.INT),
  LISTEN_PORT(0, 65535),
  LOG_CONNECTIONS(Type.BOOL),
  LOG_DISCONNECTIONS(Type.BOOL),
  LOG_POOLER_ERRORS(Type.BOOL),
  LOG_STATS(Type.BOOL),
  LOGFILE(Type.PATH),
  LOGIN_NOTIFY_MESSAGE(Type.STRING),
  MAX_CLIENT_CONN(Type.INT),
  MAX_DB_CLIENT_CONNECTIONS(Type.INT),
  MAX_DB_CONNECTIONS(Type.INT),
  MAX_PACKET_SIZE(Type.INT),
  MAX_PREPARED_STATEMENTS(Type.INT),
  MAX_USER_CLIENT_CONNECTIONS(Type.INT),
  MAX_USER_CONNECTIONS(Type.INT),
  MIN_POOL_SIZE(Type.INT),
  PEER_ID(0, 16383),
  PIDFILE(Type.PATH),
  PKT_BUF(Type.INT),
  POOL_IDLE_TIMEOUT(Type.DURATION),
  POOL_MODE(choices(PoolMode.values(), PoolMode::iniName)),
  QUERY_TIMEOUT(Type.DURATION),
  QUERY_WAIT_NOTIFY(Type.DURATION),
  QUERY_WAIT_TIMEOUT(Type.DURATION),
  RESERVE_POOL_SIZE(Type.INT),
  RESERVE_POOL_TIMEOUT(Type.DURATION),
  RESOLV_CONF(Type.PATH),
  SBUF_LOOPCNT(Type.INT),
  SCRAM_ITERATIONS(1, Integer.MAX_VALUE),
  SERVER_CHECK_DELAY(Type.DURATION),
  SERVER_CHECK_QUERY(Type.STRING),
  SERVER_CONNECT_TIMEOUT(Type.DURATION),
  SERVER_FAST_CLOSE(Type.BOOL),
  SERVER_IDLE_TIMEOUT(Type.DURATION),
  SERVER_LIFETIME(Type.DURATION),
  SERVER_LOGIN_RETRY(Type.DURATION),
  SERVER_RESET_QUERY(Type.STRING),
  SERVER_RESET_QUERY_ALWAYS(Type.BOOL),
  SERVER_ROUND_ROBIN(Type.BOOL),
  SERVER_TLS13_CIPHERS(Type.STRING),
  SERVER_TLS_CA_FILE(Type.PATH),
  SERVER_TLS_CERT_FILE(Type.PATH),
  SERVER_TLS_CIPHERS(Type.STRING),
  SERVER_TLS_KEY_FILE(Type.PATH),
  SERVER_TLS_PROTOCOLS(Type.STRING),
  SERVER_TLS_SSLMODE(choices(SslMode.values(), SslMode::iniName)),
  SO_REUSEPORT(Type.BOOL),
  STATS_PERIOD(Type.DURATION),
  STATS_USERS(Type.LIST),
  SUSPEND_TIMEOUT(Type.DURATION),
  SYSLOG(Type.BOOL),
  SYSLOG_FACILITY(Type.STRING),
  SYSLOG_IDENT(Type.STRING),
  TCP_DEFER_ACCEPT(Type.BOOL),
  TCP_KEEPALIVE(Type.BOOL),
  TCP_KEEPCNT(Type.INT),
  TCP_KEEPIDLE(Type.INT),
  TCP_KEEPINTVL(Type.INT),
  TCP_SOCKET_BUFFER(Type.INT),
  TCP_USER_TIMEOUT(Type.INT),
  TRACK_EXTRA_PARAMETERS(Type.LIST),
  TRANSACTION_TIMEOUT(Type.DURATION),
  // not a path: "@name" is an abstract socket, and PgBouncer uses it as written
  UNIX_SOCKET_DIR(Type.STRING),
  UNIX_SOCKET_GROUP(Type.STRING),
  UNIX_SOCKET_MODE(0, 0777),
  USER(Type.STRING),
  VERBOSE(Type.INT),
  // jbouncer's own
  DEFER_BEGIN(Type.BOOL),
  SESSION_STATE(choices(SessionStatePolicy.values(), SessionStatePolicy::iniName)),
  WORKER_THREADS(Type.INT);

  /** How a value is written and what it becomes. */
  enum Type {
    /** C-style integer ({@code 0x1f}, {@code 0777} like strtol base 0) between min and max. */
    INT,
    /** An integer, nonzero = on (PgBouncer's switches are ints); also true/false/on/off/yes/no. */
    BOOL,
    /**
     * Decimal seconds like PgBouncer ({@code 15}, {@code 0.5}); also HOCON units ({@code 500ms}).
     */
    DURATION,
    /** Any text; "" and null are "not set" where the setting allows it. */
    STRING,
    /** A file, resolved against the config file's directory; "" = not set. */
    PATH,
    /** A comma-separated list, items trimmed, empty items dropped (or a HOCON list). */
    LIST,
    /** One of {@link #choices()}, case-insensitive. */
    ENUM
  }

  /** CF_NO_RELOAD in PgBouncer: RELOAD and SET leave these alone. */
  private static final Set<Param> FIXED_AT_START =
      EnumSet.of(
          DISABLE_PQEXEC,
          JOB_NAME,
          LISTEN_ADDR,
          LISTEN_BACKLOG,
          LISTEN_PORT,
          PIDFILE,
          PKT_BUF,
          RESOLV_CONF,
          SO_REUSEPORT,
          TRACK_EXTRA_PARAMETERS,
          UNIX_SOCKET_DIR,
          UNIX_SOCKET_GROUP,
          UNIX_SOCKET_MODE,
          USER,
          WORKER_THREADS);

  private final Type type;
  private final long min;
  private final long max;
  private final List<String> choices;

  Param(Type type) {
    this(type, 0, Integer.MAX_VALUE, List.of());
  }

  Param(long min, long max) {
    this(Type.INT, min, max, List.of());
  }

  Param(List<String> choices) {
    this(Type.ENUM, 0, 0, choices);
  }

  Param(Type type, long min, long max, List<String> choices) {
    this.type = type;
    this.min = min;
    this.max = max;
    this.choices = choices;
  }

  /** The key as written in pgbouncer.ini and under {@code jbouncer.pgbouncer} in HOCON. */
  String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  Type type() {
    return type;
  }

  long min() {
    return min;
  }

  long max() {
    return max;
  }

  List<String> choices() {
    return choices;
  }

  boolean reloadable() {
    return !FIXED_AT_START.contains(this);
  }

  private static <E> List<String> choices(E[] values, Function<E, String> iniName) {
    return Arrays.stream(values).map(iniName).toList();
  }
}

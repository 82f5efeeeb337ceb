package io.jbouncer.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds {@link Settings} from one resolved Typesafe Config tree (the user's file over {@code
 * reference.conf}) and checks every value on the way. Errors name where the value came from, the
 * key, the value and what was expected: {@code pgbouncer.ini:7: default_pool_size: "ten" (expected:
 * an integer)}.
 */
final class SettingsReader {
  private static final Logger log = LoggerFactory.getLogger(SettingsReader.class);

  static final Set<String> DATABASE_KEYS =
      Set.of(
          "dbname",
          "host",
          "port",
          "user",
          "password",
          "auth_user",
          "auth_dbname",
          "auth_query",
          "client_encoding",
          "datestyle",
          "timezone",
          "application_name",
          "pool_size",
          "min_pool_size",
          "reserve_pool_size",
          "reserve_pool",
          "max_db_connections",
          "max_db_client_connections",
          "server_lifetime",
          "query_wait_timeout",
          "pool_mode",
          "load_balance_hosts",
          "connect_query",
          "session_state");

  static final Set<String> USER_KEYS =
      Set.of(
          "pool_mode",
          "pool_size",
          "reserve_pool_size",
          "max_user_connections",
          "max_user_client_connections",
          "query_timeout",
          "query_wait_timeout",
          "idle_transaction_timeout",
          "transaction_timeout",
          "client_idle_timeout");

  /** Connection string keys and the name the server expects in a startup packet. */
  private static final Map<String, String> STARTUP_PARAMETERS =
      orderedMap(
          "client_encoding", "client_encoding",
          "datestyle", "DateStyle",
          "timezone", "TimeZone",
          "application_name", "application_name");

  /** Microseconds must fit a long, as PgBouncer's usec_t. */
  private static final BigDecimal MAX_SECONDS = BigDecimal.valueOf(Long.MAX_VALUE).movePointLeft(6);

  private static final Set<String> TOP_KEYS =
      Set.of("pgbouncer", "database_defaults", "databases", "users");

  private final @Nullable Path baseDir;
  private final EnumMap<Param, @Nullable Object> values = new EnumMap<>(Param.class);

  private SettingsReader(@Nullable Path file) {
    this.baseDir = file == null ? null : file.toAbsolutePath().normalize().getParent();
  }

  /**
   * @param config the user's settings over reference.conf, resolved
   * @param file the file they came from (relative paths are resolved against its directory), or
   *     {@code null} to leave relative paths relative to the working directory
   */
  static Settings read(Config config, @Nullable Path file) {
    return new SettingsReader(file).build(config, file);
  }

  private Settings build(Config config, @Nullable Path file) {
    ConfigObject top = config.getObject("jbouncer");
    for (Map.Entry<String, ConfigValue> e : top.entrySet()) {
      if (!TOP_KEYS.contains(e.getKey())) {
        log.warn("{}: unknown key jbouncer.{}, ignored", where(e.getValue().origin()), e.getKey());
      }
    }

    ConfigObject pgbouncer = config.getObject("jbouncer.pgbouncer");
    for (Map.Entry<String, ConfigValue> e : pgbouncer.entrySet()) {
      if (param(e.getKey()) == null) {
        log.warn(
            "{}: unknown parameter: pgbouncer/{}, ignored",
            where(e.getValue().origin()),
            e.getKey());
      }
    }
    for (Param p : Param.values()) {
      ConfigValue v = pgbouncer.get(p.key());
      if (v == null) {
        throw new IllegalStateException("reference.conf lacks jbouncer.pgbouncer." + p.key());
      }
      values.put(p, value(p, v));
    }

    ConfigObject dbDefaults = config.getObject("jbouncer.database_defaults");
    Map<String, DatabaseSettings> databases = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> e : config.getObject("jbouncer.databases").entrySet()) {
      databases.put(e.getKey(), database(e.getKey(), e.getValue(), dbDefaults));
    }
    Map<String, UserSettings> users = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> e : config.getObject("jbouncer.users").entrySet()) {
      users.put(e.getKey(), user(e.getKey(), e.getValue()));
    }

    Path conffile = path(Param.CONFFILE);
    return new Settings(
        conffile != null ? conffile : file,
        list(Param.LISTEN_ADDR),
        integer(Param.LISTEN_PORT),
        integer(Param.LISTEN_BACKLOG),
        byIniName(AuthType.values(), AuthType::iniName, choice(Param.AUTH_TYPE)),
        path(Param.AUTH_FILE),
        byIniName(PoolMode.values(), PoolMode::iniName, choice(Param.POOL_MODE)),
        integer(Param.DEFAULT_POOL_SIZE),
        integer(Param.MIN_POOL_SIZE),
        integer(Param.RESERVE_POOL_SIZE),
        integer(Param.MAX_CLIENT_CONN),
        integer(Param.MAX_DB_CONNECTIONS),
        integer(Param.MAX_USER_CONNECTIONS),
        text(Param.SERVER_RESET_QUERY),
        bool(Param.SERVER_RESET_QUERY_ALWAYS),
        orderedSet(list(Param.IGNORE_STARTUP_PARAMETERS)),
        duration(Param.SERVER_CONNECT_TIMEOUT),
        duration(Param.SERVER_LOGIN_RETRY),
        duration(Param.CLIENT_LOGIN_TIMEOUT),
        duration(Param.SERVER_IDLE_TIMEOUT),
        duration(Param.SERVER_LIFETIME),
        duration(Param.QUERY_WAIT_TIMEOUT),
        integer(Param.MAX_PACKET_SIZE),
        integer(Param.PKT_BUF),
        list(Param.ADMIN_USERS),
        list(Param.STATS_USERS),
        bool(Param.LOG_CONNECTIONS),
        bool(Param.LOG_DISCONNECTIONS),
        bool(Param.LOG_POOLER_ERRORS),
        bool(Param.APPLICATION_NAME_ADD_HOST),
        integer(Param.WORKER_THREADS),
        Collections.unmodifiableMap(databases),
        Collections.unmodifiableMap(users),
        duration(Param.QUERY_TIMEOUT),
        duration(Param.QUERY_WAIT_NOTIFY),
        duration(Param.CANCEL_WAIT_TIMEOUT),
        duration(Param.CLIENT_IDLE_TIMEOUT),
        duration(Param.IDLE_TRANSACTION_TIMEOUT),
        duration(Param.TRANSACTION_TIMEOUT),
        duration(Param.AUTODB_IDLE_TIMEOUT),
        duration(Param.POOL_IDLE_TIMEOUT),
        duration(Param.SUSPEND_TIMEOUT),
        duration(Param.RESERVE_POOL_TIMEOUT),
        duration(Param.SERVER_CHECK_DELAY),
        text(Param.SERVER_CHECK_QUERY),
        bool(Param.SERVER_FAST_CLOSE),
        bool(Param.SERVER_ROUND_ROBIN),
        integer(Param.MAX_DB_CLIENT_CONNECTIONS),
        integer(Param.MAX_USER_CLIENT_CONNECTIONS),
        integer(Param.MAX_PREPARED_STATEMENTS),
        integer(Param.SBUF_LOOPCNT),
        duration(Param.STATS_PERIOD),
        bool(Param.LOG_STATS),
        integer(Param.VERBOSE),
        path(Param.AUTH_HBA_FILE),
        path(Param.AUTH_IDENT_FILE),
        optionalText(Param.AUTH_USER),
        text(Param.AUTH_QUERY),
        optionalText(Param.AUTH_DBNAME),
        integer(Param.SCRAM_ITERATIONS),
        bool(Param.DISABLE_PQEXEC),
        orderedSet(list(Param.TRACK_EXTRA_PARAMETERS)),
        optionalText(Param.LOGIN_NOTIFY_MESSAGE),
        optionalText(Param.UNIX_SOCKET_DIR),
        integer(Param.UNIX_SOCKET_MODE),
        bool(Param.SO_REUSEPORT),
        bool(Param.TCP_DEFER_ACCEPT),
        bool(Param.TCP_KEEPALIVE),
        integer(Param.TCP_KEEPCNT),
        integer(Param.TCP_KEEPIDLE),
        integer(Param.TCP_KEEPINTVL),
        integer(Param.TCP_USER_TIMEOUT),
        integer(Param.TCP_SOCKET_BUFFER),
        new TlsSettings(
            byIniName(SslMode.values(), SslMode::iniName, choice(Param.CLIENT_TLS_SSLMODE)),
            path(Param.CLIENT_TLS_CA_FILE),
            path(Param.CLIENT_TLS_CERT_FILE),
            path(Param.CLIENT_TLS_KEY_FILE),
            text(Param.CLIENT_TLS_PROTOCOLS),
            text(Param.CLIENT_TLS_CIPHERS),
            optionalText(Param.CLIENT_TLS13_CIPHERS),
            choice(Param.CLIENT_TLS_DHEPARAMS),
            optionalText(Param.CLIENT_TLS_ECDHCURVE)),
        new TlsSettings(
            byIniName(SslMode.values(), SslMode::iniName, choice(Param.SERVER_TLS_SSLMODE)),
            path(Param.SERVER_TLS_CA_FILE),
            path(Param.SERVER_TLS_CERT_FILE),
            path(Param.SERVER_TLS_KEY_FILE),
            text(Param.SERVER_TLS_PROTOCOLS),
            text(Param.SERVER_TLS_CIPHERS),
            optionalText(Param.SERVER_TLS13_CIPHERS),
            null,
            null),
        path(Param.LOGFILE),
        path(Param.PIDFILE),
        integer(Param.PEER_ID),
        duration(Param.DNS_MAX_TTL),
        duration(Param.DNS_NXDOMAIN_TTL),
        byIniName(
            SessionStatePolicy.values(), SessionStatePolicy::iniName, choice(Param.SESSION_STATE)),
        bool(Param.DEFER_BEGIN),
        params());
  }

  // ---- [pgbouncer]

  private static @Nullable Param param(String key) {
    for (Param p : Param.values()) {
      if (p.key().equals(key)) {
        return p;
      }
    }
    return null;
  }

  private @Nullable Object value(Param p, ConfigValue v) {
    String what = p.key();
    return switch (p.type()) {
      case INT -> integer(v, what, p.min(), p.max());
      case BOOL -> bool(v, what);
      case DURATION -> duration(v, what);
      case STRING -> text(v, what);
      case PATH -> path(v, what);
      case LIST -> list(v, what);
      case ENUM -> choice(v, what, p.choices());
    };
  }

  private int integer(Param p) {
    return (Integer) Objects.requireNonNull(values.get(p));
  }

  private boolean bool(Param p) {
    return (Boolean) Objects.requireNonNull(values.get(p));
  }

  private Duration duration(Param p) {
    return (Duration) Objects.requireNonNull(values.get(p));
  }

  /** A string setting that is always there; a HOCON null counts as "". */
  private String text(Param p) {
    Object v = values.get(p);
    return v == null ? "" : (String) v;
  }

  /** A string setting where "" (or null) means "not set". */
  private @Nullable String optionalText(Param p) {
    String v = text(p);
    return v.isEmpty() ? null : v;
  }

  private @Nullable Path path(Param p) {
    return (Path) values.get(p);
  }

  @SuppressWarnings("unchecked")
  private List<String> list(Param p) {
    return (List<String>) Objects.requireNonNull(values.get(p));
  }

  private String choice(Param p) {
    return (String) Objects.requireNonNull(values.get(p));
  }

  /** What SHOW CONFIG prints, in its order (alphabetical, as PgBouncer's table). */
  private List<ConfigParam> params() {
    ConfigObject reference =
        ConfigFactory.parseResources(SettingsReader.class, "/reference.conf")
            .getObject("jbouncer.pgbouncer");
    List<ConfigParam> params = new ArrayList<>();
    for (Param p : Param.values()) {
      ConfigValue def = reference.get(p.key());
      String defaultValue =
          def == null || def.valueType() == ConfigValueType.NULL
              ? ""
              : String.valueOf(def.unwrapped());
      params.add(new ConfigParam(p.key(), show(p, values.get(p)), defaultValue, p.reloadable()));
    }
    return List.copyOf(params);
  }

  private static String show(Param p, @Nullable Object value) {
    if (value == null) {
      return "";
    }
    return switch (p.type()) {
      case BOOL -> (Boolean) value ? "1" : "0";
      case DURATION -> seconds((Duration) value);
      case LIST -> String.join(",", castList(value));
      default -> value.toString();
    };
  }

  @SuppressWarnings("unchecked")
  private static List<String> castList(Object value) {
    return (List<String>) value;
  }

  /** Seconds the way PgBouncer prints them: no trailing zeros, no exponent. */
  static String seconds(Duration d) {
    BigDecimal micros = BigDecimal.valueOf(d.getSeconds()).movePointRight(6);
    micros = micros.add(BigDecimal.valueOf(d.getNano() / 1000));
    return micros.movePointLeft(6).stripTrailingZeros().toPlainString();
  }

  // ---- [databases] and [users]

  private DatabaseSettings database(String name, ConfigValue value, ConfigObject defaults) {
    String what = "[databases] " + name;
    if (name.equals("pgbouncer")) {
      throw new ConfigError(where(value.origin()) + ": database name \"pgbouncer\" is reserved");
    }
    Map<String, ConfigValue> params =
        entries(
            value,
            what,
            "syntax error in connection string",
            "unrecognized connection parameter",
            DATABASE_KEYS);

    Map<String, String> startup = new LinkedHashMap<>();
    STARTUP_PARAMETERS.forEach(
        (key, serverName) -> {
          String v = optionalText(params, key, what);
          if (v != null) {
            startup.put(serverName, v);
          }
        });
    String reserveKey =
        params.containsKey("reserve_pool_size") ? "reserve_pool_size" : "reserve_pool";
    ConfigValue port = params.getOrDefault("port", defaults.get("port"));
    ConfigValue balance =
        params.getOrDefault("load_balance_hosts", defaults.get("load_balance_hosts"));
    String poolMode = optionalChoice(params, "pool_mode", what, Param.POOL_MODE.choices());
    String sessionState =
        optionalChoice(params, "session_state", what, Param.SESSION_STATE.choices());
    return new DatabaseSettings(
        name,
        optionalText(params, "host", what),
        integer(Objects.requireNonNull(port), what + ": port", 1, 65535),
        optionalText(params, "dbname", what),
        optionalText(params, "user", what),
        optionalText(params, "password", what),
        optionalCount(params, "pool_size", what),
        optionalCount(params, "min_pool_size", what),
        optionalCount(params, reserveKey, what),
        poolMode == null ? null : byIniName(PoolMode.values(), PoolMode::iniName, poolMode),
        zeroIfUnset(optionalCount(params, "max_db_connections", what)),
        zeroIfUnset(optionalCount(params, "max_db_client_connections", what)),
        optionalCount(params, "server_lifetime", what),
        Collections.unmodifiableMap(startup),
        optionalText(params, "connect_query", what),
        optionalText(params, "auth_user", what),
        optionalText(params, "auth_query", what),
        optionalText(params, "auth_dbname", what),
        minusOneIsUnset(params, "query_wait_timeout", what),
        byIniName(
            LoadBalanceHosts.values(),
            LoadBalanceHosts::iniName,
            choice(
                Objects.requireNonNull(balance),
                what + ": load_balance_hosts",
                choices(LoadBalanceHosts.values(), LoadBalanceHosts::iniName))),
        sessionState == null
            ? null
            : byIniName(SessionStatePolicy.values(), SessionStatePolicy::iniName, sessionState));
  }

  private UserSettings user(String name, ConfigValue value) {
    String what = "[users] " + name;
    Map<String, ConfigValue> params =
        entries(
            value, what, "syntax error in user settings", "unrecognized user parameter", USER_KEYS);
    String poolMode = optionalChoice(params, "pool_mode", what, Param.POOL_MODE.choices());
    return new UserSettings(
        name,
        poolMode == null ? null : byIniName(PoolMode.values(), PoolMode::iniName, poolMode),
        optionalCount(params, "pool_size", what),
        optionalCount(params, "reserve_pool_size", what),
        zeroIfUnset(optionalCount(params, "max_user_connections", what)),
        zeroIfUnset(optionalCount(params, "max_user_client_connections", what)),
        zeroIsUnset(params, "query_timeout", what),
        minusOneIsUnset(params, "query_wait_timeout", what),
        zeroIsUnset(params, "idle_transaction_timeout", what),
        zeroIsUnset(params, "transaction_timeout", what),
        zeroIsUnset(params, "client_idle_timeout", what));
  }

  /**
   * The parameters of a [databases] or [users] entry: a HOCON object, or a string in PgBouncer's
   * {@code key=value ...} form.
   */
  private static Map<String, ConfigValue> entries(
      ConfigValue value, String what, String syntaxError, String unknownKey, Set<String> known) {
    Map<String, ConfigValue> params = new LinkedHashMap<>();
    if (value instanceof ConfigObject object) {
      params.putAll(object);
    } else if (value.valueType() == ConfigValueType.STRING) {
      String prefix = where(value.origin()) + ": " + what + ": " + syntaxError;
      ConnString.parse((String) value.unwrapped(), prefix)
          .forEach(
              (k, v) -> params.put(k, ConfigValueFactory.fromAnyRef(v).withOrigin(value.origin())));
    } else {
      throw bad(value, what, "an object or a key=value string");
    }
    for (Map.Entry<String, ConfigValue> e : params.entrySet()) {
      if (!known.contains(e.getKey())) {
        throw new ConfigError(
            where(e.getValue().origin()) + ": " + what + ": " + unknownKey + ": " + e.getKey());
      }
    }
    return params;
  }

  private @Nullable String optionalText(Map<String, ConfigValue> params, String key, String what) {
    ConfigValue v = params.get(key);
    String s = v == null ? null : text(v, what + ": " + key);
    return s == null || s.isEmpty() ? null : s;
  }

  private static @Nullable Integer optionalCount(
      Map<String, ConfigValue> params, String key, String what) {
    ConfigValue v = params.get(key);
    return v == null ? null : integer(v, what + ": " + key, 0, Integer.MAX_VALUE);
  }

  private static int zeroIfUnset(@Nullable Integer count) {
    return count == null ? 0 : count;
  }

  private @Nullable String optionalChoice(
      Map<String, ConfigValue> params, String key, String what, List<String> choices) {
    ConfigValue v = params.get(key);
    return v == null ? null : choice(v, what + ": " + key, choices);
  }

  /** PgBouncer's per-user timeouts: 0 (the default) means "use the global one". */
  private static @Nullable Duration zeroIsUnset(
      Map<String, ConfigValue> params, String key, String what) {
    ConfigValue v = params.get(key);
    Duration d = v == null ? null : duration(v, what + ": " + key);
    return d == null || d.isZero() ? null : d;
  }

  /** query_wait_timeout per database or user: -1 means "not set", 0 disables. */
  private static @Nullable Duration minusOneIsUnset(
      Map<String, ConfigValue> params, String key, String what) {
    ConfigValue v = params.get(key);
    if (v == null || String.valueOf(v.unwrapped()).strip().equals("-1")) {
      return null;
    }
    return duration(v, what + ": " + key);
  }

  // ---- value checks shared by every section

  private static int integer(ConfigValue v, String what, long min, long max) {
    Long n = asLong(v);
    if (n == null) {
      throw bad(v, what, "an integer");
    }
    if (n < min || n > max) {
      throw bad(
          v,
          what,
          max == Integer.MAX_VALUE
              ? "an integer >= " + min
              : "an integer between " + min + " and " + max);
    }
    return (int) (long) n;
  }

  private static @Nullable Long asLong(ConfigValue v) {
    Object raw = v.unwrapped();
    return switch (v.valueType()) {
      case NUMBER ->
          raw instanceof Integer || raw instanceof Long ? ((Number) raw).longValue() : null;
      case STRING -> parseCLong(((String) raw).strip());
      default -> null;
    };
  }

  /** strtol with base 0, as PgBouncer reads ints: {@code 0x1f} hex, {@code 0777} octal. */
  static @Nullable Long parseCLong(String s) {
    int i = 0;
    boolean negative = false;
    if (!s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-')) {
      negative = s.charAt(0) == '-';
      i = 1;
    }
    int radix = 10;
    if (s.startsWith("0x", i) || s.startsWith("0X", i)) {
      radix = 16;
      i += 2;
    } else if (s.length() > i + 1 && s.charAt(i) == '0') {
      radix = 8;
      i += 1;
    }
    String digits = s.substring(i);
    if (digits.isEmpty() || digits.chars().anyMatch(c -> Character.digit(c, 16) < 0)) {
      return null;
    }
    try {
      long n = Long.parseLong(digits, radix);
      return negative ? -n : n;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static boolean bool(ConfigValue v, String what) {
    if (v.valueType() == ConfigValueType.BOOLEAN) {
      return (Boolean) v.unwrapped();
    }
    if (v.valueType() == ConfigValueType.STRING) {
      switch (((String) v.unwrapped()).strip().toLowerCase(Locale.ROOT)) {
        case "true", "on", "yes" -> {
          return true;
        }
        case "false", "off", "no" -> {
          return false;
        }
        default -> {}
      }
    }
    Long n = asLong(v);
    if (n == null) {
      throw bad(v, what, "0 or 1");
    }
    return n != 0;
  }

  /** Decimal seconds as PgBouncer (strtod, truncated to microseconds), or a HOCON duration. */
  private static Duration duration(ConfigValue v, String what) {
    BigDecimal seconds = null;
    if (v.valueType() == ConfigValueType.NUMBER || v.valueType() == ConfigValueType.STRING) {
      String s = String.valueOf(v.unwrapped()).strip();
      try {
        seconds = new BigDecimal(s);
      } catch (NumberFormatException e) {
        seconds = hoconDuration(s);
      }
    }
    if (seconds == null || seconds.signum() < 0 || seconds.compareTo(MAX_SECONDS) > 0) {
      throw bad(v, what, "a number of seconds >= 0");
    }
    long micros = seconds.movePointRight(6).setScale(0, RoundingMode.DOWN).longValueExact();
    return Duration.of(micros, ChronoUnit.MICROS);
  }

  /** {@code 500ms}, {@code 2 minutes}, ... in seconds; null if {@code s} is not one. */
  private static @Nullable BigDecimal hoconDuration(String s) {
    if (s.isEmpty() || !Character.isDigit(s.charAt(0))) {
      return null;
    }
    try {
      Duration d = ConfigFactory.parseMap(Map.of("d", s)).getDuration("d");
      return BigDecimal.valueOf(d.getSeconds()).add(BigDecimal.valueOf(d.getNano(), 9));
    } catch (ConfigException e) {
      return null;
    }
  }

  private static @Nullable String text(ConfigValue v, String what) {
    return switch (v.valueType()) {
      case NULL -> null;
      case STRING, NUMBER, BOOLEAN -> String.valueOf(v.unwrapped());
      default -> throw bad(v, what, "a string");
    };
  }

  private @Nullable Path path(ConfigValue v, String what) {
    String s = text(v, what);
    if (s == null || s.isBlank()) {
      return null;
    }
    Path p;
    try {
      p = Path.of(s);
    } catch (InvalidPathException e) {
      throw bad(v, what, "a file name");
    }
    return p.isAbsolute() || baseDir == null ? p : baseDir.resolve(p).normalize();
  }

  private static List<String> list(ConfigValue v, String what) {
    List<String> items = new ArrayList<>();
    if (v instanceof ConfigList list) {
      for (ConfigValue item : list) {
        items.add(Objects.requireNonNullElse(text(item, what), ""));
      }
    } else {
      String s = text(v, what);
      if (s != null) {
        items.addAll(List.of(s.split(",", -1)));
      }
    }
    return items.stream().map(String::strip).filter(item -> !item.isEmpty()).toList();
  }

  private static String choice(ConfigValue v, String what, List<String> choices) {
    String s = text(v, what);
    if (s != null) {
      for (String c : choices) {
        if (c.equalsIgnoreCase(s.strip())) {
          return c;
        }
      }
    }
    throw bad(v, what, oneOf(choices));
  }

  private static String oneOf(List<String> choices) {
    int last = choices.size() - 1;
    return String.join(", ", choices.subList(0, last)) + " or " + choices.get(last);
  }

  private static ConfigError bad(ConfigValue v, String what, String expected) {
    String shown =
        switch (v.valueType()) {
          case OBJECT, LIST -> v.render(ConfigRenderOptions.concise());
          default -> String.valueOf(v.unwrapped());
        };
    return new ConfigError(
        where(v.origin()) + ": " + what + ": \"" + shown + "\" (expected: " + expected + ")");
  }

  /** {@code file:line}, or what Typesafe Config knows about where a value came from. */
  static String where(ConfigOrigin origin) {
    String file = origin.filename() != null ? origin.filename() : origin.resource();
    if (file == null) {
      return origin.description();
    }
    return origin.lineNumber() > 0 ? file + ":" + origin.lineNumber() : file;
  }

  // ---- small helpers

  static <E> E byIniName(E[] values, Function<E, String> iniName, String name) {
    for (E e : values) {
      if (iniName.apply(e).equals(name)) {
        return e;
      }
    }
    throw new IllegalArgumentException(name);
  }

  private static <E> List<String> choices(E[] values, Function<E, String> iniName) {
    List<String> names = new ArrayList<>();
    for (E e : values) {
      names.add(iniName.apply(e));
    }
    return names;
  }

  private static Set<String> orderedSet(List<String> items) {
    return Collections.unmodifiableSet(new LinkedHashSet<>(items));
  }

  private static Map<String, String> orderedMap(String... keysAndValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return Collections.unmodifiableMap(map);
  }
}

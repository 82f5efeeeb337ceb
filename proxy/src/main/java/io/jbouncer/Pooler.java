package io.jbouncer;

import io.jbouncer.admin.Admin;
import io.jbouncer.auth.ClientAuthenticator;
import io.jbouncer.auth.HbaConnection;
import io.jbouncer.auth.HbaRule;
import io.jbouncer.auth.HbaRules;
import io.jbouncer.auth.PassthroughKeys;
import io.jbouncer.auth.ScramCache;
import io.jbouncer.auth.UserList;
import io.jbouncer.client.ClientConnection;
import io.jbouncer.config.AuthType;
import io.jbouncer.config.DatabaseSettings;
import io.jbouncer.config.PoolMode;
import io.jbouncer.config.Settings;
import io.jbouncer.config.UserSettings;
import io.jbouncer.net.Dns;
import io.jbouncer.net.Transport;
import io.jbouncer.pool.Pool;
import io.jbouncer.pool.PoolKey;
import io.jbouncer.pool.ServerLimit;
import io.jbouncer.protocol.PgFrameDecoder;
import io.jbouncer.protocol.SqlState;
import io.jbouncer.protocol.frontend.CancelRequest;
import io.jbouncer.server.AuthQuery;
import io.jbouncer.server.ServerConnection;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What connections share: settings, the user list, the pools, the cancel keys and the client count.
 * Handed to each connection by constructor; never a global. Its maps are concurrent because clients
 * of every event loop look pools and cancel keys up.
 */
public final class Pooler {
  private static final Logger log = LoggerFactory.getLogger(Pooler.class);
  static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

  private volatile Settings settings; // replaced whole by reconfigure (RELOAD, SET)
  private volatile UserList userList; // replaced whole by reconfigure (RELOAD)
  private volatile @Nullable HbaRules hbaRules;
  private final ConcurrentHashMap<String, String> dynamicSecrets = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AuthQuery> authQueries = new ConcurrentHashMap<>();
  private volatile EventLoopGroup authLoop;
  private final Transport transport;
  private final ConcurrentHashMap<PoolKey, Pool> pools = new ConcurrentHashMap<>();
  // each set is touched only by its own event loop (see loopClients)
  private final ConcurrentHashMap<EventLoop, Set<ClientConnection>> clientsByLoop =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ServerLimit> userLimits = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ServerLimit> dbLimits = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, ClientConnection> cancelKeys = new ConcurrentHashMap<>();
  private final AtomicInteger clients = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> clientsPerDatabase =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicInteger> clientsPerUser = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final SecureRandom random = new SecureRandom();
  private final ScramCache scramCache = new ScramCache();
  private final byte[] mockScramKey = new byte[32];
  private final ConcurrentHashMap<String, PassthroughKeys> passthrough = new ConcurrentHashMap<>();
  private final ExecutorService authWorkers;
  private final AddressResolverGroup<InetSocketAddress> resolvers;
  private volatile Admin admin;
  // PAUSE, DISABLE and KILL, set by the admin console and the signals (see lifecycle.Controller)
  private volatile boolean pausedAll;
  private final Set<String> pausedDatabases = ConcurrentHashMap.newKeySet();
  private final Set<String> disabledDatabases = ConcurrentHashMap.newKeySet();
  private volatile boolean refusingWaiters; // SHUTDOWN WAIT_FOR_SERVERS
  private volatile boolean suspended; // SUSPEND: nothing is read until RESUME
  private volatile boolean closing; // jbouncer is closing every connection

  Pooler(Settings settings, AuthFiles auth, Transport transport) {
    this.hbaRules = auth.hba();
    this.settings = settings;
    this.userList = auth.users();
    this.transport = transport;
    this.authWorkers = newAuthWorkers();
    this.resolvers = Dns.resolvers(transport, settings);
    random.nextBytes(mockScramKey);
  }

  /**
   * Threads for authentication work too slow for an event loop (PBKDF2): the loops hand it over and
   * get the result back through their task queue.
   */
  private static ExecutorService newAuthWorkers() {
    AtomicInteger n = new AtomicInteger();
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    return Executors.newFixedThreadPool(
        threads,
        r -> {
          Thread t = new Thread(r, "jbouncer-auth-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  public ExecutorService authWorkers() {
    return authWorkers;
  }

  public ScramCache scramCache() {
    return scramCache;
  }

  /** Remembers the keys a client's SCRAM login against {@code secret} proved, for server logins. */
  public void rememberPassthroughKeys(String user, PassthroughKeys keys) {
    passthrough.put(user, keys);
  }

  /** Pass-through keys for {@code user}, if a client proved them against this same secret. */
  public @Nullable PassthroughKeys passthroughKeys(String user, String secret) {
    PassthroughKeys keys = passthrough.get(user);
    return keys != null && keys.secret().equals(secret) ? keys : null;
  }

  void shutdown() {
    authQueries.values().forEach(AuthQuery::close);
    authWorkers.shutdownNow();
    resolvers.close();
  }

  /** Resolves server host names without blocking the event loop that connects. */
  public AddressResolverGroup<InetSocketAddress> resolvers() {
    return resolvers;
  }

  public Settings settings() {
    return settings;
  }

  public long nextId() {
    return ids.incrementAndGet();
  }

  // --- clients ---

  public void clientOpened() {
    clients.incrementAndGet();
  }

  public void clientClosed() {
    clients.decrementAndGet();
  }

  public int clientCount() {
    return clients.get();
  }

  /**
   * Counts a client against {@code max_db_client_connections} and {@code
   * max_user_client_connections}; returns PgBouncer's refusal, or null when it is admitted (then
   * {@link #releaseClientCaps} must follow when it leaves).
   */
  public @Nullable String admitClient(String databaseName, DatabaseSettings database, String user) {
    int maxDb =
        database.maxDbClientConnections() > 0
            ? database.maxDbClientConnections()
            : settings.maxDbClientConnections();
    UserSettings userSettings = settings.users().get(user);
    int maxUser =
        userSettings != null && userSettings.maxUserClientConnections() > 0
            ? userSettings.maxUserClientConnections()
            : settings.maxUserClientConnections();
    AtomicInteger perDb =
        clientsPerDatabase.computeIfAbsent(databaseName, k -> new AtomicInteger());
    AtomicInteger perUser = clientsPerUser.computeIfAbsent(user, k -> new AtomicInteger());
    if (perDb.incrementAndGet() > maxDb && maxDb > 0) {
      perDb.decrementAndGet();
      return "client connections exceeded (max_db_client_connections)";
    }
    if (perUser.incrementAndGet() > maxUser && maxUser > 0) {
      perUser.decrementAndGet();
      perDb.decrementAndGet();
      return "client connections exceeded (max_user_client_connections)";
    }
    return null;
  }

  /** The admitted client left. */
  public void releaseClientCaps(String databaseName, String user) {
    clientsPerDatabase.get(databaseName).decrementAndGet();
    clientsPerUser.get(user).decrementAndGet();
  }

  /**
   * The authentication exchange for a client: by {@code auth_type}, or with {@code hba} by the
   * first matching rule of {@code auth_hba_file} (no match rejects, as in PgBouncer).
   */
  /**
   * The clients living on {@code loop}. Only that loop may touch the returned set: clients add and
   * remove themselves on it, and its janitor reads it there.
   */
  public Set<ClientConnection> loopClients(EventLoop loop) {
    return clientsByLoop.computeIfAbsent(
        loop, l -> Collections.newSetFromMap(new IdentityHashMap<>()));
  }

  /** The janitor of one event loop: client timeouts, run on that loop. */
  void clientJanitor(EventLoop loop) {
    Set<ClientConnection> clients = clientsByLoop.get(loop);
    if (clients == null || clients.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    for (ClientConnection client : clients.toArray(new ClientConnection[0])) {
      try {
        client.checkTimeouts(now);
      } catch (RuntimeException e) {
        // a scheduled task that throws is never run again: one bad client must not stop them all
        log.error("{} janitor failed", client.prefix(), e);
      }
    }
  }

  /**
   * The pools' janitor: retries and reserve servers for waiting clients, min_pool_size, idle
   * servers past server_idle_timeout or server_lifetime, cancels past cancel_wait_timeout.
   */
  void poolJanitor() {
    long now = System.nanoTime();
    for (Pool pool : pools.values()) {
      try {
        pool.janitor(now);
      } catch (RuntimeException e) {
        log.error("{}: janitor failed", pool.key(), e);
      }
    }
  }

  public ClientAuthenticator authenticatorFor(
      String user, String database, @Nullable InetAddress address) {
    return authenticatorFor(user, database, address, userList.secret(user));
  }

  /**
   * The authentication exchange for a client, once its secret is known: from auth_file, or for
   * users missing there and a configured {@code auth_user}, from {@code auth_query} (PgBouncer's
   * dynamic users, remembered for this user's server logins). Completes at once without auth_query.
   */
  public CompletableFuture<ClientAuthenticator> authenticate(
      String user, String databaseName, DatabaseSettings database, @Nullable InetAddress address) {
    String secret = userList.secret(user);
    String authUser = database.authUser() != null ? database.authUser() : settings.authUser();
    if (secret != null || authUser == null || settings.authType() == AuthType.ANY) {
      return CompletableFuture.completedFuture(
          authenticatorFor(user, databaseName, address, secret));
    }
    AuthQuery lookups;
    try {
      lookups = authQueryFor(databaseName, database, authUser);
    } catch (io.jbouncer.config.ConfigError e) {
      return CompletableFuture.failedFuture(e); // the client is told; others are not affected
    }
    return lookups
        .lookup(user)
        .thenApply(
            found -> {
              if (found.secret() != null) {
                dynamicSecrets.put(user, found.secret());
              } else {
                dynamicSecrets.remove(user); // dropped or NOLOGIN since: no stale secret
              }
              return authenticatorFor(user, databaseName, address, found.secret());
            });
  }

  private AuthQuery authQueryFor(String databaseName, DatabaseSettings database, String authUser) {
    String authDbname =
        database.authDbname() != null ? database.authDbname() : settings.authDbname();
    DatabaseSettings target = database;
    String targetName = databaseName;
    if (authDbname != null) {
      DatabaseSettings named = settings.databases().get(authDbname);
      if (named == null) {
        throw new io.jbouncer.config.ConfigError(
            "auth_dbname " + authDbname + " is not in [databases]");
      }
      target = named;
      targetName = authDbname;
    }
    String serverDbname = target.dbname() != null ? target.dbname() : targetName;
    String query = database.authQuery() != null ? database.authQuery() : settings.authQuery();
    DatabaseSettings server = target;
    String password =
        userList.secret(authUser) != null ? userList.secret(authUser) : server.password();
    return authQueries.computeIfAbsent(
        serverDbname + "\0" + authUser + "\0" + query,
        key ->
            new AuthQuery(
                this,
                authLoop.next(),
                serverHost(server),
                server.port(),
                serverDbname,
                authUser,
                password,
                query));
  }

  private ClientAuthenticator authenticatorFor(
      String user, String database, @Nullable InetAddress address, @Nullable String secret) {
    if (settings.authType() != AuthType.HBA) {
      return new ClientAuthenticator(
          this, ClientAuthenticator.methodFor(settings.authType(), secret), user, secret);
    }
    HbaRule rule =
        hbaRules == null
            ? null
            : hbaRules.match(new HbaConnection(HbaConnection.Kind.HOST, address), database, user);
    if (rule == null) {
      log.info("no hba rule for user {} database {} from {}", user, database, address);
      return new ClientAuthenticator(this, ClientAuthenticator.Method.REJECT, user, secret);
    }
    log.debug("{} applies to user {} database {}", rule, user, database);
    ClientAuthenticator.Method method =
        switch (rule.method()) {
          case TRUST -> ClientAuthenticator.Method.TRUST;
          case REJECT -> ClientAuthenticator.Method.REJECT;
          case PASSWORD -> ClientAuthenticator.Method.PASSWORD;
          case MD5 -> ClientAuthenticator.methodFor(AuthType.MD5, secret);
          case SCRAM_SHA_256 -> ClientAuthenticator.Method.SCRAM;
          // cert needs TLS and peer a unix socket, neither of which jbouncer has yet
          case CERT, PEER, LDAP -> ClientAuthenticator.Method.REJECT;
        };
    return new ClientAuthenticator(this, method, user, secret);
  }

  /** A user's secret: auth_file first, else what auth_query found for it. */
  private @Nullable String secretOf(String user) {
    String secret = userList.secret(user);
    return secret != null ? secret : dynamicSecrets.get(user);
  }

  // --- RELOAD ---

  private static final Set<AuthType> SUPPORTED_AUTH =
      java.util.EnumSet.of(
          AuthType.ANY,
          AuthType.TRUST,
          AuthType.PLAIN,
          AuthType.MD5,
          AuthType.SCRAM_SHA_256,
          AuthType.HBA);

  /** What {@code auth_file} and {@code auth_hba_file} hold, loaded and checked. */
  public record AuthFiles(UserList users, @Nullable HbaRules hba) {}

  /**
   * Loads the authentication files {@code settings} name, as start and RELOAD need them.
   *
   * @throws io.jbouncer.config.ConfigError if auth_type is not supported or a file is broken
   */
  public static AuthFiles loadAuthFiles(Settings settings) {
    if (!SUPPORTED_AUTH.contains(settings.authType())) {
      throw new io.jbouncer.config.ConfigError(
          "auth_type "
              + settings.authType().iniName()
              + " is not supported yet (supported: any, trust, plain, md5, scram-sha-256, hba)");
    }
    UserList users =
        settings.authFile() != null ? UserList.load(settings.authFile()) : UserList.empty();
    HbaRules hba = null;
    if (settings.authType() == AuthType.HBA) {
      if (settings.authHbaFile() == null) {
        throw new io.jbouncer.config.ConfigError("auth_type hba needs auth_hba_file");
      }
      hba = HbaRules.load(settings.authHbaFile());
    }
    return new AuthFiles(users, hba);
  }

  /**
   * RELOAD: {@code fresh} becomes the running settings, checked beforehand with its {@code auth}
   * files. Pools take their new sizes, modes and timeouts, and close servers of a database whose
   * connection changed once released; pools of a removed database lose their clients and servers
   * ("database removed"); caps and connected clients' timeouts follow.
   */
  public void reconfigure(Settings fresh, AuthFiles auth) {
    settings = fresh;
    if (!auth.users().sameAs(userList)) {
      log.info("auth_file {} reloaded: {} users", fresh.authFile(), auth.users().size());
    }
    userList = auth.users();
    hbaRules = auth.hba();
    List<PoolKey> removed = new ArrayList<>();
    for (Pool pool : pools.values()) {
      DatabaseSettings database = fresh.database(pool.key().database());
      if (database == null) {
        removed.add(pool.key());
        continue;
      }
      pool.reconfigure(poolConfig(fresh, pool.key(), database));
    }
    userLimits.forEach((user, limit) -> limit.setMax(maxUserConnections(fresh, user)));
    dbLimits.forEach(
        (name, limit) -> {
          DatabaseSettings database = fresh.database(name);
          limit.setMax(database == null ? 0 : maxDbConnections(fresh, database));
        });
    List<Pool> dropped = new ArrayList<>();
    for (PoolKey key : removed) {
      dropped.add(pools.remove(key));
      log.warn("dropping database '{}' as it does not exist anymore", key.database());
    }
    onEveryLoop(
            loop -> {
              for (ClientConnection client : List.copyOf(loopClients(loop))) {
                if (dropped.contains(client.pool())) {
                  client.fatal(SqlState.PROTOCOL_VIOLATION, "database removed");
                } else {
                  client.settingsChanged(fresh);
                }
              }
              return null;
            })
        .thenRun(() -> dropped.forEach(pool -> pool.closeAll("database removed")));
  }

  // --- PAUSE, DISABLE ---

  /** True while servers of {@code database} are not handed out (PAUSE, KILL, shutdown). */
  public boolean isPaused(String database) {
    return pausedAll || pausedDatabases.contains(database);
  }

  /** True when every database is paused (PAUSE without a database, SIGUSR1). */
  public boolean isPausedAll() {
    return pausedAll;
  }

  /** Pauses or resumes every database; a database paused on its own stays paused. */
  public void pauseAll(boolean paused) {
    pausedAll = paused;
  }

  /** Pauses or resumes one database; false if that changed nothing. */
  public boolean pauseDatabase(String database, boolean paused) {
    return paused ? pausedDatabases.add(database) : pausedDatabases.remove(database);
  }

  /** SHUTDOWN WAIT_FOR_SERVERS: clients that would wait for a server are closed instead. */
  public boolean isRefusingWaiters() {
    return refusingWaiters;
  }

  public void refuseWaiters() {
    refusingWaiters = true;
  }

  /** SUSPEND: backpressure must not turn reading back on until RESUME. */
  public boolean isSuspended() {
    return suspended;
  }

  public void suspended(boolean suspended) {
    this.suspended = suspended;
  }

  /** jbouncer is closing every connection: they do not close on their own account. */
  public boolean isClosing() {
    return closing;
  }

  void closing() {
    closing = true;
  }

  /** True when {@code database} refuses new clients (DISABLE). */
  public boolean isDisabled(String database) {
    return disabledDatabases.contains(database);
  }

  public void disableDatabase(String database, boolean disabled) {
    if (disabled) {
      disabledDatabases.add(database);
    } else {
      disabledDatabases.remove(database);
    }
  }

  // --- what the admin console shows ---

  /** Clients connected to {@code databaseName} (admitted past the client caps). */
  public int clientsOfDatabase(String databaseName) {
    AtomicInteger n = clientsPerDatabase.get(databaseName);
    return n == null ? 0 : n.get();
  }

  /** Clients logged in as {@code user} (admitted past the client caps). */
  public int clientsOfUser(String user) {
    AtomicInteger n = clientsPerUser.get(user);
    return n == null ? 0 : n.get();
  }

  /** The users of auth_file and those auth_query found. */
  public java.util.SortedSet<String> knownUsers() {
    java.util.TreeSet<String> names = new java.util.TreeSet<>(userList.users());
    names.addAll(dynamicSecrets.keySet());
    return names;
  }

  /** The admin console; set once at start. */
  public Admin admin() {
    return admin;
  }

  void useAdmin(Admin admin) {
    this.admin = admin;
  }

  /**
   * Runs {@code task} on every event loop; completes with the results in loop order. For views that
   * read what only a loop may read (its clients, its counters).
   */
  public <T> CompletableFuture<List<T>> onEveryLoop(
      java.util.function.Function<EventLoop, T> task) {
    List<CompletableFuture<T>> results = new ArrayList<>();
    for (io.netty.util.concurrent.EventExecutor executor : authLoop) {
      EventLoop loop = (EventLoop) executor;
      CompletableFuture<T> result = new CompletableFuture<>();
      loop.execute(
          () -> {
            try {
              result.complete(task.apply(loop));
            } catch (RuntimeException e) {
              result.completeExceptionally(e);
            }
          });
      results.add(result);
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
        .thenApply(done -> results.stream().map(CompletableFuture::join).toList());
  }

  /** The event loops auth_query connections live on; set once the loops exist. */
  void useEventLoops(EventLoopGroup loops) {
    this.authLoop = loops;
  }

  public Transport transport() {
    return transport;
  }

  /** The per-process key that makes mock SCRAM salts stable per user and unguessable. */
  public byte[] mockScramKey() {
    return mockScramKey.clone();
  }

  // --- pools ---

  /** The pool of (database name, server user), created on first use. */
  public Pool pool(DatabaseSettings database, String databaseName, String poolUser) {
    return pools.computeIfAbsent(
        new PoolKey(databaseName, poolUser), key -> newPool(key, database));
  }

  /**
   * Closes the idle server connections to database {@code dbname} (as PostgreSQL names it), so that
   * a DROP DATABASE, or a CREATE DATABASE using it as template, is not refused because of us.
   */
  public void closeIdleServersOf(String dbname, String statement) {
    for (Pool pool : pools()) {
      if (pool.serverDbname().equals(dbname)) {
        log.info("{}: closing idle servers for {}", pool.key(), statement);
        pool.closeIdle("database needed free for " + statement);
      }
    }
  }

  public Collection<Pool> pools() {
    return pools.values();
  }

  private Pool newPool(PoolKey key, DatabaseSettings database) {
    Settings current = settings;
    Pool.Config config = poolConfig(current, key, database);
    log.info(
        "new pool {}: server database {} on {}:{}, pool_mode={}, pool_size={}",
        key,
        config.serverDbname(),
        serverHost(database),
        database.port(),
        config.poolMode().iniName(),
        config.poolSize());
    // both caps always exist (0 = none), so that RELOAD can set them on pools that have servers
    List<ServerLimit> limits =
        List.of(
            userLimits.computeIfAbsent(
                key.user(),
                u -> new ServerLimit("max_user_connections", u, maxUserConnections(current, u))),
            dbLimits.computeIfAbsent(
                key.database(),
                d ->
                    new ServerLimit("max_db_connections", d, maxDbConnections(current, database))));
    return new Pool(
        key, config, () -> secretOf(key.user()), limits, connector, () -> isPaused(key.database()));
  }

  /** A pool's configuration under {@code current}: [users] over [databases] over [pgbouncer]. */
  private Pool.Config poolConfig(Settings current, PoolKey key, DatabaseSettings database) {
    @Nullable UserSettings user = current.users().get(key.user());
    PoolMode mode =
        firstNonNull(
            user != null ? user.poolMode() : null, database.poolMode(), current.poolMode());
    int size =
        firstNonNull(
            user != null ? user.poolSize() : null, database.poolSize(), current.defaultPoolSize());
    String dbname = database.dbname() != null ? database.dbname() : key.database();
    return new Pool.Config(
        database,
        mode,
        size,
        dbname,
        current.serverLoginRetry().toNanos(),
        lifecycle(current, database, user, size));
  }

  private static int maxUserConnections(Settings current, String user) {
    UserSettings u = current.users().get(user);
    return u != null && u.maxUserConnections() > 0
        ? u.maxUserConnections()
        : current.maxUserConnections();
  }

  private static int maxDbConnections(Settings current, DatabaseSettings database) {
    return database.maxDbConnections() > 0
        ? database.maxDbConnections()
        : current.maxDbConnections();
  }

  private static Pool.Lifecycle lifecycle(
      Settings settings, DatabaseSettings database, @Nullable UserSettings user, int poolSize) {
    long lifetime =
        database.serverLifetime() != null
            ? java.util.concurrent.TimeUnit.SECONDS.toNanos(database.serverLifetime())
            : settings.serverLifetime().toNanos();
    int minPool = database.minPoolSize() != null ? database.minPoolSize() : settings.minPoolSize();
    if (poolSize > 0) {
      minPool = Math.min(minPool, poolSize);
    }
    int reserve =
        firstNonNull(
            user != null ? user.reservePoolSize() : null,
            database.reservePoolSize(),
            settings.reservePoolSize());
    return new Pool.Lifecycle(
        settings.serverIdleTimeout().toNanos(),
        lifetime,
        minPool,
        reserve,
        settings.reservePoolTimeout().toNanos(),
        settings.serverRoundRobin(),
        checkQuery(settings),
        settings.serverCheckDelay().toNanos(),
        settings.cancelWaitTimeout().toNanos());
  }

  /** PgBouncer's server_check_query: "" disables the check, {@code <empty>} is an empty query. */
  private static @Nullable String checkQuery(Settings settings) {
    String query = settings.serverCheckQuery();
    if (query.isEmpty()) {
      return null;
    }
    return query.equals("<empty>") ? "" : query;
  }

  @SafeVarargs
  private static <T> T firstNonNull(@Nullable T... values) {
    for (T value : values) {
      if (value != null) {
        return value;
      }
    }
    throw new IllegalStateException("no value");
  }

  private static String serverHost(DatabaseSettings database) {
    // unix-socket server connections are not implemented yet: an unset host means loopback
    return database.host() != null ? database.host() : "127.0.0.1";
  }

  /** Opens a server connection for {@code pool} on {@code loop} (null: any event loop). */
  private void launch(Pool pool, @Nullable EventLoop requested) {
    EventLoop loop = requested != null ? requested : authLoop.next();
    long id = nextId();
    ServerConnection[] created = new ServerConnection[1];
    Bootstrap bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(transport.socketChannel())
            .resolver(resolvers)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int)
                    Math.min(
                        Integer.MAX_VALUE, Math.max(1, settings.serverConnectTimeout().toMillis())))
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ServerConnection server = new ServerConnection(Pooler.this, pool, id, ch);
                    created[0] = server;
                    pool.adopt(server);
                    ch.pipeline()
                        .addLast(
                            "frameDecoder",
                            new PgFrameDecoder(
                                settings.maxPacketSize(),
                                settings.pktBuf(),
                                ServerConnection.KEEP_WHOLE));
                    ch.pipeline().addLast("server", server);
                  }
                });
    transport
        .socketOptions(settings)
        .forEach((option, value) -> bootstrap.option(JBouncer.rawOption(option), value));
    bootstrap
        .connect(serverHost(pool.database()), pool.database().port())
        .addListener(
            (ChannelFuture f) -> {
              if (!f.isSuccess()) {
                ServerConnection server =
                    created[0] != null
                        ? created[0]
                        : new ServerConnection(this, pool, id, f.channel());
                server.connectFailed(f.cause());
              }
            });
  }

  // --- cancel ---

  public ConcurrentHashMap<Long, ClientConnection> cancelKeys() {
    return cancelKeys;
  }

  /** A fresh random key for BackendKeyData, unique among connected clients. */
  public long registerCancelKey(ClientConnection client) {
    while (true) {
      long key = random.nextLong() & Long.MAX_VALUE; // PgBouncer clears the sign bit too
      if (key != 0 && cancelKeys.putIfAbsent(key, client) == null) {
        return key;
      }
    }
  }

  /**
   * A CancelRequest arrived on {@code request}'s connection, which closes once the cancel was
   * handled (PgBouncer never answers on it either).
   */
  public void cancel(long key, ClientConnection request) {
    ClientConnection target = cancelKeys.get(key);
    if (target == null) {
      request.closeCancelRequest("failed cancel request");
      return;
    }
    target.eventLoop().execute(() -> target.cancelRunningQuery(request));
  }

  /** How pools open their connections: on the event loops of this pooler. */
  private final Pool.Connector connector =
      new Pool.Connector() {
        @Override
        public void launch(Pool pool, @Nullable EventLoop loop) {
          Pooler.this.launch(pool, loop);
        }

        @Override
        public void sendCancel(ServerConnection server, Runnable done) {
          Pooler.this.sendCancel(server, done);
        }
      };

  /**
   * Sends PostgreSQL a CancelRequest for {@code server}'s backend over a new connection; {@code
   * done} runs when PostgreSQL has closed it (the cancel was delivered) or it failed.
   */
  private void sendCancel(ServerConnection server, Runnable done) {
    SocketAddress address = server.channel().remoteAddress();
    int processId = server.processId();
    int secretKey = server.secretKey();
    AtomicBoolean finished = new AtomicBoolean();
    Runnable finish =
        () -> {
          if (finished.compareAndSet(false, true)) {
            server.cancelFinished();
            done.run();
          }
        };
    new Bootstrap()
        .group(server.eventLoop())
        .channel(transport.socketChannel())
        .option(
            ChannelOption.CONNECT_TIMEOUT_MILLIS,
            (int) Math.max(1, settings.serverConnectTimeout().toMillis()))
        .handler(
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelActive(ChannelHandlerContext ctx) {
                ByteBuf request =
                    new CancelRequest(processId, secretKey).encodeTo(ctx.alloc().ioBuffer(16));
                ctx.writeAndFlush(request);
              }

              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg);
              }
            })
        .connect(address)
        .addListener(
            (ChannelFuture f) -> {
              if (f.isSuccess()) {
                f.channel().closeFuture().addListener(closed -> finish.run());
              } else {
                log.warn("{} cancel request failed: {}", server.prefix(), f.cause().getMessage());
                finish.run();
              }
            });
  }
}

package io.jbouncer.admin;

import io.jbouncer.Pooler;
import io.jbouncer.client.ClientConnection;
import io.jbouncer.client.ClientSnapshot;
import io.jbouncer.config.ConfigParam;
import io.jbouncer.config.DatabaseSettings;
import io.jbouncer.config.LoadBalanceHosts;
import io.jbouncer.config.PoolMode;
import io.jbouncer.config.Settings;
import io.jbouncer.config.UserSettings;
import io.jbouncer.lifecycle.Controller;
import io.jbouncer.lifecycle.Reloader;
import io.jbouncer.log.Conn;
import io.jbouncer.pool.Pool;
import io.jbouncer.pool.PoolKey;
import io.jbouncer.pool.PoolStats;
import io.jbouncer.protocol.SqlState;
import io.jbouncer.server.ServerSnapshot;
import io.netty.util.internal.PlatformDependent;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The admin console's commands, shared by every console connection: the SHOW views with PgBouncer
 * 1.25's columns, names and types, and the commands that operate jbouncer.
 *
 * <p>Threading: called on the console client's event loop. Views that read what only a loop may
 * read (its clients, its counters) are gathered from every loop with {@link Pooler#onEveryLoop};
 * pool and server views read the pools under their locks.
 *
 * @see <a href="https://www.pgbouncer.org/usage.html#admin-console">PgBouncer's admin console</a>
 */
public final class Admin {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Admin.class);

  /** The virtual database of the console. */
  public static final String DATABASE = "pgbouncer";

  /** The PgBouncer version whose console jbouncer reproduces. */
  static final String PGBOUNCER_VERSION = "1.25.2";

  /** ParameterStatus values a console client is welcomed with, as PgBouncer's. */
  public static final Map<String, String> WELCOME_PARAMETERS = welcomeParameters();

  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z", Locale.ROOT)
          .withZone(ZoneId.systemDefault());

  private static final String HELP =
      "\n\tSHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION"
          + "\n\tSHOW PEERS|PEER_POOLS"
          + "\n\tSHOW FDS|SOCKETS|ACTIVE_SOCKETS|LISTS|MEM|STATE"
          + "\n\tSHOW DNS_HOSTS|DNS_ZONES"
          + "\n\tSHOW STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS"
          + "\n\tSHOW PINNED (jbouncer's own)"
          + "\n\tSET key = arg"
          + "\n\tRELOAD"
          + "\n\tPAUSE [<db>]"
          + "\n\tRESUME [<db>]"
          + "\n\tDISABLE <db>"
          + "\n\tENABLE <db>"
          + "\n\tRECONNECT [<db>]"
          + "\n\tKILL [<db>]"
          + "\n\tKILL_CLIENT <client_id>"
          + "\n\tSUSPEND"
          + "\n\tSHUTDOWN"
          + "\n\tSHUTDOWN WAIT_FOR_SERVERS|WAIT_FOR_CLIENTS"
          + "\n\tWAIT_CLOSE [<db>]";

  /** SHOW of these answers a fixed value, and SET of them is ignored, as in PgBouncer. */
  private static final Map<String, String> FAKE_PARAMETERS =
      Map.of(
          "client_encoding", "UTF-8",
          "default_transaction_isolation", "read committed",
          "standard_conforming_strings", "on",
          "datestyle", "ISO",
          "timezone", "GMT",
          "extra_float_digits", "2");

  private final Pooler pooler;
  private final Controller controller;
  private final Reloader reloader;
  private final Stats stats;
  private final AtomicInteger consoles = new AtomicInteger();

  public Admin(Pooler pooler, Controller controller, Reloader reloader) {
    this.pooler = pooler;
    this.controller = controller;
    this.reloader = reloader;
    this.stats = new Stats(pooler);
  }

  /** The counters behind SHOW STATS and log_stats. */
  public Stats stats() {
    return stats;
  }

  private static Map<String, String> welcomeParameters() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("server_version", PGBOUNCER_VERSION + "/bouncer");
    p.put("client_encoding", "UTF8");
    p.put("server_encoding", "UTF8");
    p.put("DateStyle", "ISO");
    p.put("TimeZone", "GMT");
    p.put("standard_conforming_strings", "on");
    p.put("is_superuser", "on");
    return Map.copyOf(p);
  }

  /**
   * A console for {@code client}, logged in as {@code user}: every command for {@code admin_users},
   * SHOW for {@code stats_users}; null for anyone else ("not allowed").
   */
  public @Nullable AdminConsole open(ClientConnection client, String user) {
    Settings settings = pooler.settings();
    boolean adminUser = settings.adminUsers().contains(user);
    if (!adminUser && !settings.statsUsers().contains(user)) {
      return null;
    }
    consoles.incrementAndGet();
    return new AdminConsole(this, client, adminUser);
  }

  /** A console connection closed; if it had suspended jbouncer, PgBouncer resumes. */
  void closed(AdminConsole console) {
    consoles.decrementAndGet();
    if (console.suspender()) {
      controller.suspenderLeft();
    }
  }

  /**
   * Runs {@code command}, parsed from {@code query}, for {@code console}; the reply is written on
   * the console's loop. Plain SHUTDOWN never completes: PgBouncer does not answer it.
   */
  CompletableFuture<Reply> execute(AdminCommand command, String query, AdminConsole console) {
    String name = command.name();
    String argument = command.argument();
    @Nullable String database = argument.isEmpty() ? null : argument;
    if (name.equals("show") || name.equals("select")) {
      return show(argument, query, console);
    }
    if (name.equals("set") && FAKE_PARAMETERS.containsKey(argument.toLowerCase(Locale.ROOT))) {
      return done(new Reply.Done("SET", notice("SET ignored")));
    }
    if (!COMMANDS.contains(name) || (name.equals("set") && command.value() == null)) {
      return done(invalid(query));
    }
    if (!console.adminUser()) {
      return done(new Reply.Error("admin access needed"));
    }
    return switch (name) {
      case "pause" -> {
        String error = controller.pause(database);
        yield error != null
            ? done(new Reply.Error(error))
            : controller.when(() -> controller.paused(database)).thenApply(d -> tag("PAUSE"));
      }
      case "resume" -> result(controller.resume(database), "RESUME");
      case "suspend" -> {
        if (database != null) {
          yield done(invalid(query));
        }
        String error = controller.suspend();
        if (error != null) {
          yield done(new Reply.Error(error));
        }
        console.suspender(true);
        yield controller.when(controller::flushed).thenApply(d -> tag("SUSPEND"));
      }
      case "disable" -> result(controller.disable(argument, true), "DISABLE");
      case "enable" -> result(controller.disable(argument, false), "ENABLE");
      case "reconnect" -> result(controller.reconnect(database), "RECONNECT");
      case "kill" -> controller.kill(database).thenApply(error -> reply(error, "KILL"));
      case "kill_client" ->
          controller.killClient(argument).thenApply(error -> reply(error, "KILL_CLIENT"));
      case "wait_close" -> {
        String error = controller.checkWaitClose(database);
        yield error != null
            ? done(new Reply.Error(error))
            : controller.when(() -> controller.closed(database)).thenApply(d -> tag("WAIT_CLOSE"));
      }
      case "shutdown" -> shutdown(argument, query);
      case "reload" -> database != null ? done(invalid(query)) : reload();
      case "set" -> set(argument, Objects.requireNonNull(command.value()));
      default -> done(invalid(query));
    };
  }

  /** The commands besides SHOW that PgBouncer's console knows. */
  private static final java.util.Set<String> COMMANDS =
      java.util.Set.of(
          "pause",
          "resume",
          "suspend",
          "disable",
          "enable",
          "reconnect",
          "kill",
          "kill_client",
          "wait_close",
          "shutdown",
          "reload",
          "set");

  private CompletableFuture<Reply> shutdown(String argument, String query) {
    switch (argument.toLowerCase(Locale.ROOT)) {
      case "" -> {
        log.info("SHUTDOWN command issued");
        controller.exit();
        return new CompletableFuture<>(); // PgBouncer never answers: the process ends
      }
      case "wait_for_servers" -> {
        log.info("SHUTDOWN WAIT_FOR_SERVERS command issued");
        controller.shutdown(Controller.Shutdown.WAIT_FOR_SERVERS);
        return done(tag("SHUTDOWN"));
      }
      case "wait_for_clients" -> {
        log.info("SHUTDOWN WAIT_FOR_CLIENTS command issued");
        controller.shutdown(Controller.Shutdown.WAIT_FOR_CLIENTS);
        return done(tag("SHUTDOWN"));
      }
      default -> {
        return done(invalid(query));
      }
    }
  }

  /** Reads files: runs off the event loops. PgBouncer answers F0000 when it fails. */
  private CompletableFuture<Reply> reload() {
    log.info("RELOAD command issued");
    return CompletableFuture.supplyAsync(
        () ->
            reloader.reload()
                ? tag("RELOAD")
                : new Reply.Error(
                    SqlState.CONFIG_FILE_ERROR, "RELOAD failed, see logs for additional details"),
        pooler.authWorkers());
  }

  private CompletableFuture<Reply> set(String key, String value) {
    return CompletableFuture.supplyAsync(
        () ->
            reloader.set(key, value)
                ? tag("SET " + key + "=" + value)
                : new Reply.Error("SET failed"),
        pooler.authWorkers());
  }

  private static Reply tag(String tag) {
    return new Reply.Done(tag);
  }

  private static Reply reply(@Nullable String error, String tag) {
    return error != null ? new Reply.Error(error) : new Reply.Done(tag);
  }

  private static CompletableFuture<Reply> result(@Nullable String error, String tag) {
    return done(reply(error, tag));
  }

  private static Reply invalid(String query) {
    return new Reply.Error("invalid command '" + query + "', use SHOW HELP;");
  }

  private static CompletableFuture<Reply> done(Reply reply) {
    return CompletableFuture.completedFuture(reply);
  }

  private static Map<Character, String> notice(String message) {
    Map<Character, String> fields = new LinkedHashMap<>();
    fields.put('S', "NOTICE");
    fields.put('C', "00000");
    fields.put('M', message);
    return fields;
  }

  // --- SHOW ---

  private CompletableFuture<Reply> show(String what, String query, AdminConsole console) {
    String view = what.toLowerCase(Locale.ROOT);
    String fake = FAKE_PARAMETERS.get(view);
    if (fake != null) {
      return done(new Reply.Rows(Table.of(view + ":s").row(fake)));
    }
    return switch (view) {
      case "help" -> {
        Map<Character, String> fields = notice("Console usage");
        fields.put('D', HELP);
        yield done(new Reply.Done("SHOW", fields));
      }
      case "version" ->
          done(rows(Table.of("version:s").row("PgBouncer " + PGBOUNCER_VERSION + " (jbouncer)")));
      case "config" -> done(rows(config()));
      case "databases" -> done(rows(databases()));
      case "users" -> done(rows(users()));
      case "pools" -> done(rows(pools()));
      case "servers" -> done(rows(sockets(serverRows(), false, false)));
      case "clients" -> clientRows().thenApply(c -> rows(sockets(c, false, false)));
      case "sockets", "active_sockets" ->
          clientRows()
              .thenApply(
                  c -> {
                    List<Socket> all = new ArrayList<>(c);
                    all.addAll(serverRows());
                    return rows(sockets(all, true, view.equals("active_sockets")));
                  });
      case "lists" -> clientRows().thenApply(c -> rows(lists(c)));
      case "pinned" -> pinned();
      case "mem" -> done(rows(mem()));
      case "state" -> done(rows(state()));
      case "stats" -> stats.collect().thenApply(s -> rows(stats.show(s)));
      case "stats_totals" -> stats.collect().thenApply(s -> rows(stats.showTotals(s)));
      case "stats_averages" -> stats.collect().thenApply(s -> rows(stats.showAverages(s)));
      case "totals" -> stats.collect().thenApply(s -> rows(stats.showOverall(s)));
      case "dns_hosts" -> done(rows(Table.of("hostname:s", "ttl:q", "addrs:s")));
      case "dns_zones" -> done(rows(Table.of("zonename:s", "serial:q", "count:i")));
      case "peers" -> done(rows(Table.of("peer_id:i", "host:s", "port:i", "pool_size:i")));
      case "peer_pools" ->
          done(
              rows(
                  Table.of(
                      "peer_id:i",
                      "cl_active_cancel_req:i",
                      "cl_waiting_cancel_req:i",
                      "sv_active_cancel:i",
                      "sv_login:i")));
      case "fds" ->
          console.adminUser()
              ? done(rows(fds())) // no online restart: no file descriptors to hand over
              : done(new Reply.Error("admin access needed"));
      default -> done(invalid(query));
    };
  }

  private static Reply rows(Table table) {
    return new Reply.Rows(table);
  }

  private Table config() {
    Table t = Table.of("key:s", "value:s", "default:s", "changeable:s");
    for (ConfigParam p : pooler.settings().params()) {
      t.row(p.key(), p.value(), p.defaultValue(), p.changeable() ? "yes" : "no");
    }
    return t;
  }

  /** Configured databases (not the {@code *} fallback), those it created, and the console's. */
  private Table databases() {
    Settings settings = pooler.settings();
    Table t =
        Table.of(
            "name:s",
            "host:s",
            "port:i",
            "database:s",
            "force_user:s",
            "pool_size:i",
            "min_pool_size:i",
            "reserve_pool_size:i",
            "server_lifetime:i",
            "pool_mode:s",
            "load_balance_hosts:s",
            "max_connections:i",
            "current_connections:i",
            "max_client_connections:i",
            "current_client_connections:i",
            "paused:i",
            "disabled:i");
    TreeMap<String, DatabaseSettings> byName = new TreeMap<>();
    settings
        .databases()
        .forEach(
            (name, db) -> {
              if (!name.equals("*")) {
                byName.put(name, db);
              }
            });
    Map<String, Integer> servers = new TreeMap<>();
    for (Pool pool : pooler.pools()) {
      byName.putIfAbsent(pool.key().database(), pool.database());
      servers.merge(pool.key().database(), pool.counts().servers(), Integer::sum);
    }
    byName.put(DATABASE, null);
    for (Map.Entry<String, DatabaseSettings> e : byName.entrySet()) {
      String name = e.getKey();
      DatabaseSettings db = e.getValue();
      if (db == null) { // the console's own row, as PgBouncer shows it
        t.row(
            name,
            null,
            settings.listenPort(),
            DATABASE,
            DATABASE,
            2,
            0,
            0,
            settings.serverLifetime().toSeconds(),
            "statement",
            null,
            0,
            0,
            0,
            consoles.get(),
            0,
            0);
        continue;
      }
      t.row(
          name,
          db.host(),
          db.port(),
          db.dbname() != null ? db.dbname() : name,
          db.user(),
          db.poolSize() != null ? db.poolSize() : settings.defaultPoolSize(),
          db.minPoolSize() != null ? db.minPoolSize() : settings.minPoolSize(),
          db.reservePoolSize() != null ? db.reservePoolSize() : settings.reservePoolSize(),
          db.serverLifetime() != null ? db.serverLifetime() : settings.serverLifetime().toSeconds(),
          db.poolMode() == null ? null : db.poolMode().iniName(),
          db.host() != null && db.host().contains(",") ? loadBalance(db.loadBalanceHosts()) : null,
          db.maxDbConnections() > 0 ? db.maxDbConnections() : settings.maxDbConnections(),
          servers.getOrDefault(name, 0),
          db.maxDbClientConnections() > 0
              ? db.maxDbClientConnections()
              : settings.maxDbClientConnections(),
          pooler.clientsOfDatabase(name),
          pooler.isPaused(name) ? 1 : 0,
          pooler.isDisabled(name) ? 1 : 0);
    }
    return t;
  }

  private static String loadBalance(LoadBalanceHosts mode) {
    return mode.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private Table users() {
    Settings settings = pooler.settings();
    Table t =
        Table.of(
            "name:s",
            "pool_size:s",
            "reserve_pool_size:s",
            "pool_mode:s",
            "max_user_connections:i",
            "current_connections:i",
            "max_user_client_connections:i",
            "current_client_connections:i");
    TreeSet<String> names = new TreeSet<>(pooler.knownUsers());
    names.addAll(settings.users().keySet());
    names.add(DATABASE);
    Map<String, Integer> servers = new TreeMap<>();
    for (Pool pool : pooler.pools()) {
      servers.merge(pool.key().user(), pool.counts().servers(), Integer::sum);
    }
    for (String name : names) {
      UserSettings u = settings.users().get(name);
      t.row(
          name,
          u != null && u.poolSize() != null ? String.format("%9d", u.poolSize()) : "",
          u != null && u.reservePoolSize() != null ? String.format("%9d", u.reservePoolSize()) : "",
          u != null && u.poolMode() != null ? u.poolMode().iniName() : null,
          u != null && u.maxUserConnections() > 0
              ? u.maxUserConnections()
              : settings.maxUserConnections(),
          servers.getOrDefault(name, 0),
          u != null && u.maxUserClientConnections() > 0
              ? u.maxUserClientConnections()
              : settings.maxUserClientConnections(),
          pooler.clientsOfUser(name));
    }
    return t;
  }

  /** One row per pool, sorted by database and user, with the console's own pool. */
  private Table pools() {
    Table t =
        Table.of(
            "database:s",
            "user:s",
            "cl_active:i",
            "cl_waiting:i",
            "cl_active_cancel_req:i",
            "cl_waiting_cancel_req:i",
            "sv_active:i",
            "sv_active_cancel:i",
            "sv_being_canceled:i",
            "sv_idle:i",
            "sv_used:i",
            "sv_tested:i",
            "sv_login:i",
            "maxwait:i",
            "maxwait_us:i",
            "pool_mode:s",
            "load_balance_hosts:s");
    TreeMap<PoolKey, Object[]> rows = new TreeMap<>(POOL_ORDER);
    long checkDelay = pooler.settings().serverCheckDelay().toNanos();
    for (Pool pool : pooler.pools()) {
      Pool.Usage u = pool.usage(checkDelay);
      DatabaseSettings db = pool.database();
      rows.put(
          pool.key(),
          new Object[] {
            pool.key().database(),
            pool.key().user(),
            u.clientsActive(),
            u.clientsWaiting(),
            u.cancelsActive(),
            u.cancelsWaiting(),
            u.serversActive(),
            0, // cancel connections are not kept among the pool's servers
            u.serversBeingCanceled(),
            u.serversIdle(),
            u.serversUsed(),
            u.serversTested(),
            u.serversLogin(),
            u.maxWaitMicros() / 1_000_000,
            u.maxWaitMicros() % 1_000_000,
            pool.poolMode().iniName(),
            db.host() != null && db.host().contains(",") ? loadBalance(db.loadBalanceHosts()) : null
          });
    }
    PoolKey console = new PoolKey(DATABASE, DATABASE);
    rows.put(
        console,
        new Object[] {
          DATABASE,
          DATABASE,
          consoles.get(),
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          PoolMode.STATEMENT.iniName(),
          null
        });
    rows.values().forEach(t::row);
    return t;
  }

  static final Comparator<PoolKey> POOL_ORDER =
      Comparator.comparing(PoolKey::database).thenComparing(PoolKey::user);

  // --- CLIENTS, SERVERS, SOCKETS ---

  /** A row of SHOW CLIENTS, SERVERS or SOCKETS, ordered as PgBouncer lists them. */
  private record Socket(
      char type,
      String user,
      String database,
      String state,
      @Nullable SocketAddress remote,
      @Nullable SocketAddress local,
      long connectMillis,
      long requestMillis,
      long waitMicros,
      boolean closeNeeded,
      long id,
      long link,
      int remotePid,
      String applicationName,
      int preparedStatements,
      long pendingWriteBytes,
      int order) {}

  private static final List<String> CLIENT_ORDER =
      List.of("active", "idle", "waiting", "active_cancel_req", "waiting_cancel_req", "login");
  private static final List<String> SERVER_ORDER =
      List.of("active", "idle", "used", "tested", "new", "being_canceled");

  /**
   * jbouncer's own view: the clients that keep their server between transactions because of session
   * state, with the reason, then per database the clients pinned and the DISCARD ALLs answered
   * without a server since start.
   */
  private CompletableFuture<Reply> pinned() {
    CompletableFuture<List<List<ClientSnapshot>>> clients =
        pooler.onEveryLoop(
            loop -> {
              long nanos = System.nanoTime();
              long millis = System.currentTimeMillis();
              List<ClientSnapshot> snapshots = new ArrayList<>();
              for (ClientConnection c : pooler.loopClients(loop)) {
                ClientSnapshot snapshot = c.snapshot(nanos, millis);
                if (snapshot.pinnedFor() != null) {
                  snapshots.add(snapshot);
                }
              }
              return snapshots;
            });
    return clients.thenCombine(
        stats.collect(),
        (perLoop, totals) -> {
          Table t =
              Table.of(
                  "type:s",
                  "database:s",
                  "user:s",
                  "id:i",
                  "link:i",
                  "reason:s",
                  "pinned_total:q",
                  "discard_all_local_total:q");
          for (List<ClientSnapshot> loop : perLoop) {
            for (ClientSnapshot c : loop) {
              t.row("C", c.database(), c.user(), c.id(), c.linkedServerId(), c.pinnedFor(), 0L, 0L);
            }
          }
          for (Map.Entry<String, PoolStats> e : totals.entrySet()) {
            PoolStats s = e.getValue();
            t.row("D", e.getKey(), "", 0, 0, "", s.pins, s.discardsAnsweredLocally);
          }
          return rows(t);
        });
  }

  private CompletableFuture<List<Socket>> clientRows() {
    return pooler
        .onEveryLoop(
            loop -> {
              long nanos = System.nanoTime();
              long millis = System.currentTimeMillis();
              List<ClientSnapshot> snapshots = new ArrayList<>();
              for (ClientConnection c : pooler.loopClients(loop)) {
                snapshots.add(c.snapshot(nanos, millis));
              }
              return snapshots;
            })
        .thenApply(
            perLoop -> {
              List<Socket> rows = new ArrayList<>();
              for (List<ClientSnapshot> loop : perLoop) {
                for (ClientSnapshot c : loop) {
                  rows.add(
                      new Socket(
                          'C',
                          c.user() != null ? c.user() : "(nouser)",
                          c.database() != null ? c.database() : "(nodb)",
                          c.state(),
                          c.remote(),
                          c.local(),
                          c.connectMillis(),
                          c.requestMillis(),
                          c.waitMicros(),
                          false,
                          c.id(),
                          c.linkedServerId(),
                          0, // the peer pid of a unix-socket client; none yet
                          c.applicationName(),
                          c.preparedStatements(),
                          c.pendingWriteBytes(),
                          CLIENT_ORDER.indexOf(c.state())));
                }
              }
              return rows;
            });
  }

  private List<Socket> serverRows() {
    long checkDelay = pooler.settings().serverCheckDelay().toNanos();
    List<Socket> rows = new ArrayList<>();
    for (Pool pool : pooler.pools()) {
      for (var server : pool.servers()) {
        ServerSnapshot s = server.snapshot(checkDelay);
        rows.add(
            new Socket(
                'S',
                s.user(),
                s.database(),
                s.state(),
                s.remote(),
                s.local(),
                s.connectMillis(),
                s.requestMillis(),
                0,
                s.closeNeeded(),
                s.id(),
                s.linkedClientId(),
                s.processId(),
                s.applicationName(),
                s.preparedStatements(),
                s.pendingWriteBytes(),
                SERVER_ORDER.indexOf(s.state())));
      }
    }
    return rows;
  }

  /**
   * SHOW CLIENTS / SERVERS (login-phase clients left out), or SOCKETS with PgBouncer's buffer
   * columns, which on the JVM are 0 but {@code send_remain}: what waits in the write buffer.
   */
  private Table sockets(List<Socket> rows, boolean buffers, boolean onlyBusy) {
    List<String> columns =
        new ArrayList<>(
            List.of(
                "type:s",
                "user:s",
                "database:s",
                "replication:s",
                "state:s",
                "addr:s",
                "port:i",
                "local_addr:s",
                "local_port:i",
                "connect_time:T",
                "request_time:T",
                "wait:i",
                "wait_us:i",
                "close_needed:i",
                "ptr:s",
                "link:s",
                "remote_pid:i",
                "tls:s",
                "application_name:s",
                "prepared_statements:i",
                "id:i"));
    if (buffers) {
      columns.addAll(
          List.of(
              "recv_pos:i",
              "pkt_pos:i",
              "pkt_remain:i",
              "send_pos:i",
              "send_remain:i",
              "pkt_avail:i",
              "send_avail:i"));
    }
    Table t = Table.of(columns.toArray(String[]::new));
    List<Socket> sorted = new ArrayList<>(rows);
    sorted.sort(
        Comparator.comparing(Socket::database)
            .thenComparing(Socket::user)
            .thenComparingInt(Socket::order)
            .thenComparingLong(Socket::id));
    for (Socket s : sorted) {
      boolean login = s.state().equals("login");
      if (login && !buffers) {
        continue; // SHOW CLIENTS leaves out clients still logging in
      }
      List<Object> row = new ArrayList<>();
      String state =
          buffers ? (s.type() == 'C' ? "cl_" : "sv_") + socketState(s.state()) : s.state();
      row.add(String.valueOf(s.type()));
      row.add(s.user());
      row.add(s.database());
      row.add("none");
      row.add(state);
      row.add(host(s.remote()));
      row.add(port(s.remote()));
      row.add(host(s.local()));
      row.add(port(s.local()));
      row.add(TIMESTAMP.format(Instant.ofEpochMilli(s.connectMillis())));
      row.add(TIMESTAMP.format(Instant.ofEpochMilli(s.requestMillis())));
      row.add(s.waitMicros() / 1_000_000);
      row.add(s.waitMicros() % 1_000_000);
      row.add(s.closeNeeded() ? 1 : 0);
      row.add(ptr(s.id()));
      row.add(s.link() == 0 ? "" : ptr(s.link()));
      row.add(s.remotePid());
      row.add("");
      row.add(s.applicationName());
      row.add(s.preparedStatements());
      row.add(s.id());
      if (buffers) {
        // recv_pos, pkt_pos, pkt_remain, send_pos, send_remain, pkt_avail, send_avail: Netty's
        // buffers have no such positions; send_remain is what waits to be sent
        row.addAll(List.of(0, 0, 0, 0, s.pendingWriteBytes(), 0, 0));
      }
      if (onlyBusy && s.pendingWriteBytes() == 0) {
        continue; // ACTIVE_SOCKETS: only those with something in their buffers
      }
      t.row(row.toArray());
    }
    return t;
  }

  /** SOCKETS' state names: cl_active, cl_waiting, cl_login, sv_active, sv_idle, sv_used... */
  private static String socketState(String state) {
    return switch (state) {
      case "idle" -> "active"; // an idle client is an active one without a server
      case "new" -> "login";
      default -> state;
    };
  }

  private static String ptr(long id) {
    return "0x" + Long.toHexString(id);
  }

  private static @Nullable String host(@Nullable SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
    }
    return address == null ? null : Conn.address(address);
  }

  private static int port(@Nullable SocketAddress address) {
    return address instanceof InetSocketAddress inet ? inet.getPort() : 0;
  }

  // --- LISTS, MEM, STATE, FDS ---

  private Table lists(List<Socket> clients) {
    int pools = pooler.pools().size();
    int servers = pooler.pools().stream().mapToInt(p -> p.counts().servers()).sum();
    long login = clients.stream().filter(c -> c.state().equals("login")).count();
    Table t = Table.of("list:s", "items:i");
    t.row("databases", (int) databases().rows().size());
    t.row("users", users().rows().size());
    t.row("peers", 0);
    t.row("pools", pools + 1);
    t.row("peer_pools", 0);
    t.row("free_clients", 0); // the JVM allocates connections, it keeps no free lists
    t.row("used_clients", clients.size() - login);
    t.row("login_clients", login);
    t.row("free_servers", 0);
    t.row("used_servers", servers);
    t.row("dns_names", 0);
    t.row("dns_zones", 0);
    t.row("dns_queries", 0);
    t.row("dns_pending", 0);
    return t;
  }

  /**
   * PgBouncer's slab caches do not exist on the JVM; the rows count what they would hold, and
   * {@code iobuf_cache} the direct memory Netty uses for buffers.
   */
  private Table mem() {
    Table t = Table.of("name:s", "size:i", "used:i", "free:i", "memtotal:i");
    int pools = pooler.pools().size();
    int servers = pooler.pools().stream().mapToInt(p -> p.counts().servers()).sum();
    t.row("user_cache", 0, pooler.knownUsers().size(), 0, 0);
    t.row("db_cache", 0, pooler.settings().databases().size(), 0, 0);
    t.row("pool_cache", 0, pools, 0, 0);
    t.row("server_cache", 0, servers, 0, 0);
    t.row("client_cache", 0, pooler.clientCount(), 0, 0);
    long direct = PlatformDependent.usedDirectMemory();
    int directInt = (int) Math.min(Integer.MAX_VALUE, Math.max(0, direct));
    t.row("iobuf_cache", 1, directInt, 0, directInt);
    return t;
  }

  private Table state() {
    return Table.of("key:s", "value:s")
        .row("active", "yes")
        .row("paused", pooler.isPausedAll() ? "yes" : "no")
        .row("suspended", controller.isSuspended() ? "yes" : "no");
  }

  private static Table fds() {
    return Table.of(
        "fd:i",
        "task:s",
        "user:s",
        "database:s",
        "addr:s",
        "port:i",
        "cancel:q",
        "link:i",
        "client_encoding:s",
        "std_strings:s",
        "datestyle:s",
        "timezone:s",
        "password:s",
        "scram_client_key:b",
        "scram_server_key:b");
  }
}

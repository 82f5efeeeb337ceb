package io.jbouncer.pool;

import io.jbouncer.client.ClientConnection;
import io.jbouncer.config.DatabaseSettings;
import io.jbouncer.config.PoolMode;
import io.jbouncer.server.ServerConnection;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server connections of one (database, user) pair and the clients waiting for them.
 *
 * <p>Threading: clients and servers live on different event loops, so the pool's bookkeeping (idle
 * servers, waiting clients, counts) is shared. It is guarded by one lock whose critical sections
 * are a few deque operations, taken once per transaction and never around I/O; relaying frames
 * never takes it. Everything that touches a client runs on that client's event loop: the pool hands
 * a server to a waiting client through {@link ClientConnection#serverAssigned}, which the client
 * runs on its loop.
 *
 * <p>Sizing follows PgBouncer: {@code pool_size} caps server connections (0 = unlimited), one
 * server login is in flight at a time, waiting clients are served first come, first served, idle
 * servers are reused last in, first out ({@code server_round_robin}: first in, first out), one on
 * the client's own event loop first. A released server prefers a waiting client on its own event
 * loop so that most links need no cross-thread hop, unless the oldest waiter has waited longer than
 * {@link #CROSS_LOOP_PATIENCE_NANOS}.
 */
public final class Pool {
  private static final Logger log = LoggerFactory.getLogger(Pool.class);
  static final long CROSS_LOOP_PATIENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
  static final long FIRST_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final int LOCAL_WAITER_SCAN = 16;

  private final PoolKey key;
  private volatile Config config; // replaced whole by reconfigure (RELOAD)
  private final Supplier<@Nullable String> userSecret;
  private final Connector connector;
  private final BooleanSupplier paused;
  private final List<ServerLimit> limits;

  /**
   * How servers come and go: {@code server_idle_timeout} and {@code server_lifetime} in nanoseconds
   * (0 = forever); {@code min_pool_size}, below which idle servers are not closed for idleness;
   * {@code reserve_pool_size} extra servers allowed once the first waiting client has waited {@code
   * reserve_pool_timeout}; {@code cancel_wait_timeout} for cancel requests waiting for a slot.
   */
  public record Lifecycle(
      long idleTimeoutNanos,
      long lifetimeNanos,
      int minPoolSize,
      int reserveSize,
      long reserveTimeoutNanos,
      boolean roundRobin,
      @Nullable String checkQuery,
      long checkDelayNanos,
      long cancelWaitNanos) {}

  private final ReentrantLock lock = new ReentrantLock();
  // guarded by lock
  private final ArrayDeque<ServerConnection> idle = new ArrayDeque<>();
  private final Set<ServerConnection> servers = Collections.newSetFromMap(new IdentityHashMap<>());
  private final ArrayDeque<ClientConnection> waiting = new ArrayDeque<>();
  private final List<ClientConnection> awaitingWelcome = new ArrayList<>();
  private final ArrayDeque<PendingCancel> waitingCancels = new ArrayDeque<>();
  private int cancelsInFlight;
  private int serverCount;
  private int clients; // logged-in clients of this pool, for min_pool_size
  private int loginsInFlight;
  private long lastLoginFailureNanos;
  private long retryDelayNanos; // after the last failed login: server_login_retry, or less
  private int loginsLostInARow;
  // set under the lock, consumed by launch(); volatile so that launch() needs the lock only when
  // one is set (the thread that sets one always calls launch() after)
  private volatile @Nullable ServerLimit blockedBy;
  private long lastLifetimeCloseNanos;
  private volatile boolean slotsGivenBack;
  private @Nullable String lastLoginError;
  private volatile @Nullable Map<String, String> welcomeParameters;
  private volatile int generation; // servers opened before the last reconnect() are close_needed
  // counters of the clients of each event loop, written only by that loop (see PoolStats)
  private final ConcurrentHashMap<EventLoop, PoolStats> statsByLoop = new ConcurrentHashMap<>();

  /** Opens connections to PostgreSQL for a pool. */
  public interface Connector {
    /** Opens a server connection for {@code pool} on {@code loop} (null = any event loop). */
    void launch(Pool pool, @Nullable EventLoop loop);

    /**
     * Sends PostgreSQL a CancelRequest for {@code server}'s backend over a new connection; {@code
     * done} runs once PostgreSQL closed it or it failed.
     */
    void sendCancel(ServerConnection server, Runnable done);
  }

  /** A cancel request waiting for a free cancel slot, from {@code request} for {@code target}. */
  private record PendingCancel(
      ServerConnection server, ClientConnection target, ClientConnection request, long since) {}

  /**
   * What RELOAD may change: the database entry, the pool mode and size (0 = unlimited), the name of
   * the database on the server, {@code server_login_retry}, and the {@link Lifecycle}.
   */
  public record Config(
      DatabaseSettings database,
      PoolMode poolMode,
      int poolSize,
      String serverDbname,
      long loginRetryNanos,
      Lifecycle lifecycle) {
    /** True when servers of {@code this} cannot serve {@code next}: another server or login. */
    boolean connectsElsewhere(Config next) {
      DatabaseSettings a = database;
      DatabaseSettings b = next.database;
      return !Objects.equals(a.host(), b.host())
          || a.port() != b.port()
          || !serverDbname.equals(next.serverDbname)
          || !Objects.equals(a.user(), b.user())
          || !Objects.equals(a.password(), b.password())
          || !Objects.equals(a.startupParameters(), b.startupParameters())
          || !Objects.equals(a.connectQuery(), b.connectQuery());
    }
  }

  /**
   * @param userSecret the pool user's current secret (auth_file or auth_query), for server logins
   *     when the database entry has no password
   * @param limits the {@code max_user_connections} and {@code max_db_connections} caps it counts
   *     against
   * @param paused true while PAUSE (or KILL, or shutdown) holds this pool's servers back
   */
  public Pool(
      PoolKey key,
      Config config,
      Supplier<@Nullable String> userSecret,
      List<ServerLimit> limits,
      Connector connector,
      BooleanSupplier paused) {
    this.key = key;
    this.config = config;
    this.userSecret = userSecret;
    this.limits = List.copyOf(limits);
    this.connector = connector;
    this.paused = paused;
    for (ServerLimit limit : this.limits) {
      limit.join(this);
    }
  }

  /**
   * RELOAD: the pool takes {@code next}; if its servers connect elsewhere now, they are closed as
   * RECONNECT closes them (close_needed). Returns true in that case.
   */
  public boolean reconfigure(Config next) {
    boolean elsewhere;
    lock.lock();
    try {
      elsewhere = config.connectsElsewhere(next);
      config = next;
    } finally {
      lock.unlock();
    }
    if (elsewhere) {
      reconnect();
    }
    roomFreed(); // a larger pool may serve waiting clients now
    return elsewhere;
  }

  public Config config() {
    return config;
  }

  public PoolKey key() {
    return key;
  }

  public DatabaseSettings database() {
    return config.database();
  }

  public PoolMode poolMode() {
    return config.poolMode();
  }

  public String serverDbname() {
    return config.serverDbname();
  }

  /**
   * The password for server logins, looked up at each login: the database entry's, else the pool
   * user's current auth_file secret (so a reloaded auth_file applies to the next login).
   */
  public @Nullable String serverPassword() {
    String forced = config.database().password();
    return forced != null ? forced : userSecret.get();
  }

  /**
   * The ParameterStatus set of this pool's first server login; {@code null} until one succeeded.
   */
  public @Nullable Map<String, String> welcomeParameters() {
    return welcomeParameters;
  }

  /**
   * A client has authenticated and needs the welcome parameters. Answers at once when a server has
   * logged in before; otherwise the client waits for the next server login (PgBouncer's {@code
   * wait_for_welcome}).
   */
  public void awaitWelcome(ClientConnection client) {
    @Nullable Map<String, String> parameters;
    @Nullable EventLoop launchOn = null;
    @Nullable String cachedError = null;
    lock.lock();
    try {
      clients++;
      parameters = welcomeParameters;
      if (parameters == null) {
        cachedError = failingFast();
        if (cachedError == null) {
          awaitingWelcome.add(client);
          launchOn = launchIfNeeded(client.eventLoop());
        }
      }
    } finally {
      lock.unlock();
    }
    if (parameters != null) {
      client.welcome(parameters);
    } else if (cachedError != null) {
      client.failLogin(cachedError);
    }
    launch(launchOn);
  }

  /**
   * A linked-less client needs a server. Either {@link ClientConnection#serverAssigned} is called
   * (on the client's loop) with an idle server, or the client waits in line.
   */
  public void acquire(ClientConnection client) {
    @Nullable ServerConnection server;
    @Nullable EventLoop launchOn = null;
    @Nullable String cachedError = null;
    boolean check = false;
    lock.lock();
    try {
      server = paused.getAsBoolean() ? null : takeIdle(client.eventLoop());
      if (server == null) {
        cachedError = paused.getAsBoolean() ? null : failingFast(); // paused: wait, no more
        if (cachedError == null) {
          waiting.addLast(client);
          launchOn = launchIfNeeded(client.eventLoop());
        }
      } else if (needsCheck(server)) {
        server.markTested();
        check = true;
      } else {
        server.markActive();
      }
    } finally {
      lock.unlock();
    }
    if (check) {
      server.check(
          config.lifecycle().checkQuery(), client); // hands the server over when it answers
    } else if (server != null) {
      client.serverAssigned(server);
    } else if (cachedError != null) {
      client.failWaiting(cachedError);
    }
    launch(launchOn);
  }

  /** The client stopped waiting (cancelled, or timed out); forget it. */
  public void forget(ClientConnection client) {
    lock.lock();
    try {
      waiting.remove(client);
      awaitingWelcome.remove(client);
    } finally {
      lock.unlock();
    }
  }

  /** A client of this pool disconnected. */
  public void clientLeft(ClientConnection client) {
    lock.lock();
    try {
      clients--;
      waiting.remove(client);
      awaitingWelcome.remove(client);
    } finally {
      lock.unlock();
    }
  }

  /** A clean server (ReadyForQuery 'I', nothing outstanding) goes to a waiting client or idles. */
  public void release(ServerConnection server) {
    @Nullable ClientConnection next = null;
    @Nullable EventLoop launchOn = null;
    @Nullable String closeReason = null;
    lock.lock();
    try {
      if (server.isClosed()) {
        return;
      }
      if (server.closeNeeded()) {
        closeReason = "close_needed";
      } else if (paused.getAsBoolean()) {
        closeReason = "pause mode"; // PAUSE closes servers as they are released
      } else if (tooMany()) {
        closeReason = "too many servers in the pool"; // RELOAD made the pool smaller
      } else if (pastLifetime(server, System.nanoTime())) {
        closeReason = "server lifetime over";
      } else if ((next = takeWaiter(server.eventLoop())) == null && anotherPoolWaitsForRoom()) {
        // another pool under a shared cap has clients waiting for room
        closeReason = "evicted (a shared server cap is reached and another pool waits)";
      } else if (next == null) {
        server.markIdle();
        if (config.lifecycle().roundRobin()) {
          idle.addLast(server); // server_round_robin: the least recently used goes next
        } else {
          idle.addFirst(server); // PgBouncer's default: the most recently used goes next
        }
      } else {
        server.markActive();
        launchOn = launchIfNeeded(next.eventLoop());
      }
    } finally {
      lock.unlock();
    }
    if (closeReason != null) {
      server.close(closeReason);
      return;
    }
    if (next != null) {
      handOver(next, server);
    }
    launch(launchOn);
  }

  /** A server finished its login: cache the welcome, wake the clients that waited for it. */
  public void loggedIn(ServerConnection server, Map<String, String> parameters) {
    List<ClientConnection> welcomed;
    lock.lock();
    try {
      loginsInFlight--;
      lastLoginError = null;
      loginsLostInARow = 0;
      if (welcomeParameters == null) {
        welcomeParameters = Map.copyOf(parameters);
      }
      welcomed = new ArrayList<>(awaitingWelcome);
      awaitingWelcome.clear();
    } finally {
      lock.unlock();
    }
    Map<String, String> welcome = welcomeParameters;
    for (ClientConnection client : welcomed) {
      client.eventLoop().execute(() -> client.welcome(welcome));
    }
    release(server);
  }

  /**
   * A server login failed; {@code message} becomes the cached error of {@code server_login_retry}.
   *
   * <p>With {@code errorFrame} (the server's ErrorResponse, or one of ours for a login we cannot
   * do) every client waiting on a pool without another server gets that error, as PgBouncer's
   * {@code kill_pool_logins}: the server refused us, waiting will not help. Without it (connect
   * refused or timed out, connection lost, or PostgreSQL "starting up"/"shutting down") the clients
   * stay queued: the pool janitor retries (after a growing delay, see {@link #retryDelay}) until
   * they are served or their {@code query_wait_timeout} / {@code client_login_timeout} ends the
   * wait.
   */
  public void loginFailed(ServerConnection server, @Nullable ByteBuf errorFrame, String message) {
    List<ClientConnection> failed = new ArrayList<>();
    boolean uncounted = false;
    try {
      lock.lock();
      try {
        loginsInFlight--;
        uncounted = server.uncount();
        if (uncounted) {
          serverCount--;
        }
        servers.remove(server);
        lastLoginFailureNanos = System.nanoTime();
        lastLoginError = message;
        retryDelayNanos = retryDelay(errorFrame != null);
        if (errorFrame != null && serverCount == 0) {
          failed.addAll(awaitingWelcome);
          failed.addAll(waiting);
          awaitingWelcome.clear();
          waiting.clear();
        }
      } finally {
        lock.unlock();
      }
      for (ClientConnection client : failed) {
        ByteBuf copy = errorFrame.retainedDuplicate();
        client.eventLoop().execute(() -> client.failWithFrame(copy));
      }
    } finally {
      if (errorFrame != null) {
        errorFrame.release();
      }
    }
    if (uncounted) {
      limits.forEach(ServerLimit::release);
    }
  }

  /** A server connection closed; idempotent. */
  public void remove(ServerConnection server) {
    @Nullable EventLoop launchOn = null;
    boolean uncounted;
    lock.lock();
    try {
      idle.remove(server);
      servers.remove(server);
      uncounted = server.uncount();
      if (uncounted) {
        serverCount--;
      }
      EventLoop demand = firstWaiterLoop();
      if (demand != null) {
        launchOn = launchIfNeeded(demand);
      }
    } finally {
      lock.unlock();
    }
    if (uncounted) {
      limits.forEach(ServerLimit::release);
    }
    launch(launchOn);
  }

  /** True when a pool under one of our shared caps has clients waiting for room (no allocation). */
  private boolean anotherPoolWaitsForRoom() {
    for (int i = 0; i < limits.size(); i++) {
      if (limits.get(i).othersWaiting(this)) {
        return true;
      }
    }
    return false;
  }

  /** Room under a shared cap was freed: open a server if clients still wait. */
  void roomFreed() {
    @Nullable EventLoop launchOn = null;
    lock.lock();
    try {
      EventLoop demand = firstWaiterLoop();
      if (demand != null) {
        launchOn = launchIfNeeded(demand);
      }
    } finally {
      lock.unlock();
    }
    launch(launchOn);
  }

  /** Closes the least recently used idle server, if any, to make room for another pool. */
  boolean evictOneIdle(String why) {
    ServerConnection victim;
    lock.lock();
    try {
      victim = idle.pollLast();
    } finally {
      lock.unlock();
    }
    if (victim == null) {
      return false;
    }
    victim.close("evicted (" + why + ")");
    return true;
  }

  /**
   * The janitor's round: opens a server for waiting clients when one may be opened again (a reserve
   * server for a client waiting past {@code reserve_pool_timeout}, or the retry after a failed
   * login once its retry delay has passed); closes idle servers past {@code server_lifetime}, and
   * those idle longer than {@code server_idle_timeout} while the pool keeps at least {@code
   * min_pool_size}; drops cancel requests waiting longer than {@code cancel_wait_timeout}.
   */
  public void janitor(long now) {
    List<ServerConnection> expired = new ArrayList<>();
    List<String> reasons = new ArrayList<>();
    List<PendingCancel> staleCancels = new ArrayList<>();
    @Nullable EventLoop launchOn = null;
    boolean fill = false;
    lock.lock();
    try {
      EventLoop demand = firstWaiterLoop();
      if (demand != null) {
        // clients wait and nothing is being opened: past reserve_pool_timeout, or after a failed
        // login once its retry delay has passed
        launchOn = launchIfNeeded(demand);
      } else if (belowMinimum()) {
        fill = reserveSlots();
      }
      dropStaleCancels(now, staleCancels);
      int remaining = serverCount;
      while (tooMany(remaining) && !idle.isEmpty()) {
        expired.add(idle.pollLast());
        reasons.add("too many servers in the pool");
        remaining--;
      }
      for (Iterator<ServerConnection> it = idle.descendingIterator(); it.hasNext(); ) {
        ServerConnection server = it.next();
        String reason = null;
        if (pastLifetime(server, now)) {
          reason = "server lifetime over";
        } else if (config.lifecycle().idleTimeoutNanos() > 0
            && now - server.idleSinceNanos() > config.lifecycle().idleTimeoutNanos()
            && remaining > config.lifecycle().minPoolSize()) {
          reason = "server idle timeout";
        }
        if (reason != null) {
          it.remove();
          remaining--;
          expired.add(server);
          reasons.add(reason);
        }
      }
    } finally {
      lock.unlock();
    }
    for (int i = 0; i < expired.size(); i++) {
      expired.get(i).close(reasons.get(i));
    }
    for (PendingCancel cancel : staleCancels) {
      cancel.request().closeCancelRequest("cancel_wait_timeout");
      cancel.server().cancelFinished();
    }
    if (fill) {
      log.debug(
          "{}: below min_pool_size {}, opening a server", key, config.lifecycle().minPoolSize());
      connector.launch(this, null);
    }
    launch(launchOn);
  }

  /**
   * min_pool_size applies while the pool has clients or its database forces a user (PgBouncer
   * pre-creates those pools); one login at a time, never past pool_size or a shared cap.
   */
  private boolean belowMinimum() {
    return config.lifecycle().minPoolSize() > 0
        && !paused.getAsBoolean()
        && serverCount < config.lifecycle().minPoolSize()
        && (clients > 0 || config.database().user() != null)
        && loginsInFlight == 0
        && failingFast() == null;
  }

  /** More servers than pool_size and reserve_pool_size allow, as after RELOAD shrank them. */
  private boolean tooMany() {
    return tooMany(serverCount);
  }

  private boolean tooMany(int servers) {
    Config c = config;
    return c.poolSize() > 0 && servers > c.poolSize() + c.lifecycle().reserveSize();
  }

  /** server_check_query is due: a used server sat idle longer than server_check_delay. */
  private boolean needsCheck(ServerConnection server) {
    return config.lifecycle().checkQuery() != null
        && server.wasUsed()
        && System.nanoTime() - server.idleSinceNanos() >= config.lifecycle().checkDelayNanos();
  }

  /**
   * The server outlived server_lifetime and may be closed now. As in PgBouncer, closes are spread
   * out: at most one per lifetime / pool_size, so servers opened together are not all replaced
   * together. Records the close; call with the lock held and close the server if true.
   */
  private boolean pastLifetime(ServerConnection server, long now) {
    long lifetime = config.lifecycle().lifetimeNanos();
    if (lifetime <= 0 || now - server.createdNanos() <= lifetime) {
      return false;
    }
    long gap = lifetime / Math.max(1, config.poolSize());
    if (lastLifetimeCloseNanos != 0 && now - lastLifetimeCloseNanos < gap) {
      return false;
    }
    lastLifetimeCloseNanos = now;
    return true;
  }

  /**
   * Cancels the query {@code target} runs on {@code server}, for the CancelRequest that arrived on
   * {@code request}'s connection, which closes when it is done. The pool sends at most {@code
   * pool_size} cancel requests at once (PgBouncer lets cancels take a pool to twice its size); the
   * others wait in line, each at most {@code cancel_wait_timeout}. The caller counted the cancel in
   * {@link ServerConnection#cancelsInFlight()}.
   */
  public void cancel(ServerConnection server, ClientConnection target, ClientConnection request) {
    PendingCancel cancel = new PendingCancel(server, target, request, System.nanoTime());
    lock.lock();
    try {
      if (config.poolSize() > 0 && cancelsInFlight >= config.poolSize()) {
        request.cancelState("waiting_cancel_req", target);
        waitingCancels.addLast(cancel);
        return;
      }
      cancelsInFlight++;
    } finally {
      lock.unlock();
    }
    send(cancel);
  }

  private void send(PendingCancel cancel) {
    if (cancel.server().client() != cancel.target()) {
      // the query ended while the cancel waited: it would hit whatever runs there next
      cancel.server().cancelFinished();
      cancel.request().closeCancelRequest("not sending cancel request for client that is now idle");
      cancelSent();
      return;
    }
    cancel.request().cancelState("active_cancel_req", cancel.target());
    connector.sendCancel(
        cancel.server(),
        () -> {
          cancel.request().closeCancelRequest("successfully sent cancel request");
          cancelSent();
        });
  }

  /** A cancel slot is free again: the next waiting cancel request takes it. */
  private void cancelSent() {
    PendingCancel next;
    lock.lock();
    try {
      next = waitingCancels.pollFirst();
      if (next == null) {
        cancelsInFlight--;
      }
    } finally {
      lock.unlock();
    }
    if (next != null) {
      send(next);
    }
  }

  /** Drops cancel requests that waited longer than cancel_wait_timeout (janitor, lock held). */
  private void dropStaleCancels(long now, List<PendingCancel> dropped) {
    long limit = config.lifecycle().cancelWaitNanos();
    while (limit > 0 && !waitingCancels.isEmpty()) {
      if (now - waitingCancels.peekFirst().since() <= limit) {
        return;
      }
      dropped.add(waitingCancels.pollFirst());
    }
  }

  /**
   * The generation of this pool's servers: {@link #reconnect()} starts a new one, and servers of an
   * older one are PgBouncer's {@code close_needed}.
   */
  public int generation() {
    return generation;
  }

  /**
   * PgBouncer's RECONNECT for this pool: every server opened until now is {@code close_needed}.
   * Idle ones close at once; the others close when released, instead of going back to the pool (in
   * session mode that is when the client leaves, or with {@code server_fast_close} as soon as it is
   * between transactions). Clients are not disturbed otherwise.
   */
  public void reconnect() {
    List<ServerConnection> closing;
    lock.lock();
    try {
      generation++;
      closing = new ArrayList<>(idle);
      idle.clear();
    } finally {
      lock.unlock();
    }
    for (ServerConnection server : closing) {
      server.close("database configuration changed");
    }
  }

  /**
   * What SHOW POOLS shows of this pool: clients logged in and not waiting, waiting (for a server or
   * for their welcome), cancel requests sent and waiting, servers by PgBouncer's states (idle ones
   * unused longer than {@code checkDelayNanos} are {@code used}), and how long the first waiting
   * client has waited.
   */
  public record Usage(
      int clientsActive,
      int clientsWaiting,
      int cancelsActive,
      int cancelsWaiting,
      int serversActive,
      int serversBeingCanceled,
      int serversIdle,
      int serversUsed,
      int serversTested,
      int serversLogin,
      long maxWaitMicros) {}

  public Usage usage(long checkDelayNanos) {
    List<ServerConnection> all;
    int waitingClients;
    int active;
    int cancels;
    int cancelsWaiting;
    long maxWait;
    lock.lock();
    try {
      all = new ArrayList<>(servers);
      waitingClients = waiting.size() + awaitingWelcome.size();
      active = clients - waitingClients;
      cancels = cancelsInFlight;
      cancelsWaiting = waitingCancels.size();
      ClientConnection first = waiting.peekFirst();
      maxWait = first == null ? 0 : (System.nanoTime() - first.waitingSinceNanos()) / 1000;
    } finally {
      lock.unlock();
    }
    int[] byState = new int[6]; // active, being_canceled, idle, used, tested, new
    for (ServerConnection server : all) {
      switch (server.snapshot(checkDelayNanos).state()) {
        case "active" -> byState[0]++;
        case "being_canceled" -> byState[1]++;
        case "idle" -> byState[2]++;
        case "used" -> byState[3]++;
        case "tested" -> byState[4]++;
        case "new" -> byState[5]++;
        default -> {}
      }
    }
    return new Usage(
        Math.max(0, active),
        waitingClients,
        cancels,
        cancelsWaiting,
        byState[0],
        byState[1],
        byState[2],
        byState[3],
        byState[4],
        byState[5],
        maxWait);
  }

  /** A server connection of this pool was created; it is forgotten when it closes. */
  public void adopt(ServerConnection server) {
    lock.lock();
    try {
      servers.add(server);
    } finally {
      lock.unlock();
    }
  }

  /** Every server connection of this pool, logging in or not, for SHOW SERVERS. */
  public List<ServerConnection> servers() {
    lock.lock();
    try {
      return new ArrayList<>(servers);
    } finally {
      lock.unlock();
    }
  }

  /**
   * The counters of this pool's clients on {@code loop}; only that loop may use the result (see
   * {@link PoolStats}).
   */
  public PoolStats stats(EventLoop loop) {
    return statsByLoop.computeIfAbsent(loop, l -> new PoolStats());
  }

  /** A copy of this pool's counters on {@code loop}; call it on that loop. */
  public PoolStats statsOn(EventLoop loop) {
    PoolStats stats = statsByLoop.get(loop);
    return stats == null ? new PoolStats() : stats.copy();
  }

  /** RESUME: waiting clients may get servers again. */
  public void resume() {
    roomFreed();
  }

  /** Closes every server of this pool, busy or not (KILL). */
  public void closeAll(String reason) {
    for (ServerConnection server : servers()) {
      server.close(reason);
    }
  }

  /** Closes every idle server, e.g. on shutdown. */
  public void closeIdle(String reason) {
    List<ServerConnection> closing;
    lock.lock();
    try {
      closing = new ArrayList<>(idle);
    } finally {
      lock.unlock();
    }
    for (ServerConnection server : closing) {
      server.close(reason);
    }
  }

  /**
   * Counts for tests and, later, SHOW POOLS; {@code failingLogin} is the error new clients get
   * while the retry delay holds back the next login, else null.
   */
  public record Counts(
      int servers, int idle, int waiting, int loginsInFlight, @Nullable String failingLogin) {}

  public Counts counts() {
    lock.lock();
    try {
      return new Counts(
          serverCount,
          idle.size(),
          waiting.size() + awaitingWelcome.size(),
          loginsInFlight,
          failingFast());
    } finally {
      lock.unlock();
    }
  }

  private static void handOver(ClientConnection client, ServerConnection server) {
    if (client.eventLoop().inEventLoop()) {
      client.serverAssigned(server);
    } else {
      client.eventLoop().execute(() -> client.serverAssigned(server));
    }
  }

  private void launch(@Nullable EventLoop loop) {
    if (loop != null) {
      log.debug("{}: launching new server connection", key);
      connector.launch(this, loop);
      return;
    }
    if (blockedBy == null && !slotsGivenBack) {
      return; // the common case: no shared cap to tell
    }
    ServerLimit blocked;
    boolean poke;
    lock.lock();
    try {
      blocked = blockedBy;
      blockedBy = null;
      poke = slotsGivenBack;
      slotsGivenBack = false;
    } finally {
      lock.unlock();
    }
    if (poke) {
      limits.forEach(ServerLimit::pokeWaiting); // slots given back while we held our lock
    }
    if (blocked != null) {
      blocked.makeRoomFor(this);
    }
  }

  // --- everything below runs with the lock held ---

  /**
   * How long to hold back the next login. After PostgreSQL refused one, {@code server_login_retry},
   * as in PgBouncer: trying again at once would only fail again. After one lost on the way (refused
   * connect, "starting up", a dropped connection), first {@link #FIRST_RETRY_NANOS}, then twice as
   * long each time, up to {@code server_login_retry}: a restart that takes a second costs clients
   * about a second, not the whole {@code server_login_retry} PgBouncer would wait, while a server
   * that stays down is not tried more often than PgBouncer tries it for long.
   */
  private long retryDelay(boolean refused) {
    if (refused) {
      loginsLostInARow = 0;
      return config.loginRetryNanos();
    }
    int doublings = Math.min(loginsLostInARow++, 30);
    return Math.min(config.loginRetryNanos(), FIRST_RETRY_NANOS << doublings);
  }

  /** The event loop of the client waiting longest (for a server, else for its welcome). */
  private @Nullable EventLoop firstWaiterLoop() {
    ClientConnection first = waiting.peekFirst();
    if (first != null) {
      return first.eventLoop();
    }
    return awaitingWelcome.isEmpty() ? null : awaitingWelcome.get(0).eventLoop();
  }

  /** Reserves a server slot and returns the loop to open it on, or null when none is needed. */
  private @Nullable EventLoop launchIfNeeded(EventLoop preferred) {
    if (paused.getAsBoolean()) {
      return null; // PAUSE: no new server until RESUME
    }
    boolean demand = !waiting.isEmpty() || !awaitingWelcome.isEmpty();
    boolean room =
        config.poolSize() == 0 || serverCount < config.poolSize() || reserveOpen(System.nanoTime());
    if (!demand || !room || loginsInFlight > 0 || failingFast() != null) {
      return null;
    }
    if (config.poolSize() > 0 && serverCount >= config.poolSize()) {
      log.info("{}: taking connection from reserve_pool", key);
    }
    return reserveSlots() ? preferred : null;
  }

  /** Counts a server about to be opened, against the pool and every shared cap; false if capped. */
  private boolean reserveSlots() {
    for (int i = 0; i < limits.size(); i++) {
      if (!limits.get(i).tryReserve()) {
        for (int j = 0; j < i; j++) {
          limits.get(j).unreserve();
          slotsGivenBack = true;
        }
        blockedBy = limits.get(i);
        return false;
      }
    }
    loginsInFlight++;
    serverCount++;
    return true;
  }

  /**
   * The reserve may be used: below pool_size + reserve, and the first waiter waited long enough.
   */
  private boolean reserveOpen(long now) {
    ClientConnection first = waiting.peekFirst();
    return config.lifecycle().reserveSize() > 0
        && serverCount < config.poolSize() + config.lifecycle().reserveSize()
        && first != null
        && now - first.waitingSinceNanos() >= config.lifecycle().reserveTimeoutNanos();
  }

  /**
   * The cached login error, while no server exists and the delay after the last failed login (see
   * {@link #retryDelay}) has not passed: new requests fail fast with it, as in PgBouncer.
   */
  private @Nullable String failingFast() {
    if (lastLoginError == null || serverCount > 0) {
      return null;
    }
    if (System.nanoTime() - lastLoginFailureNanos >= retryDelayNanos) {
      return null;
    }
    return "server login has been failing, cached error: "
        + lastLoginError
        + " (server_login_retry)";
  }

  private @Nullable ServerConnection takeIdle(EventLoop loop) {
    for (Iterator<ServerConnection> it = idle.iterator(); it.hasNext(); ) {
      ServerConnection server = it.next();
      if (server.eventLoop() == loop) {
        it.remove();
        return server;
      }
    }
    return idle.pollFirst();
  }

  private @Nullable ClientConnection takeWaiter(EventLoop loop) {
    ClientConnection head = waiting.peekFirst();
    if (head == null) {
      return null;
    }
    if (head.eventLoop() == loop
        || System.nanoTime() - head.waitingSinceNanos() > CROSS_LOOP_PATIENCE_NANOS) {
      return waiting.pollFirst();
    }
    int scanned = 0;
    for (Iterator<ClientConnection> it = waiting.iterator();
        it.hasNext() && scanned < LOCAL_WAITER_SCAN;
        scanned++) {
      ClientConnection client = it.next();
      if (client.eventLoop() == loop) {
        it.remove();
        return client;
      }
    }
    return waiting.pollFirst();
  }
}

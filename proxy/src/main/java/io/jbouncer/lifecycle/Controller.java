package io.jbouncer.lifecycle;

import io.jbouncer.Pooler;
import io.jbouncer.client.ClientConnection;
import io.jbouncer.pool.Pool;
import io.jbouncer.protocol.SqlState;
import io.jbouncer.server.ServerConnection;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operating jbouncer as PgBouncer is operated: PAUSE, RESUME, SUSPEND, KILL, DISABLE, ENABLE,
 * RECONNECT, WAIT_CLOSE, the three kinds of SHUTDOWN. The admin console and the signals both come
 * here; methods return PgBouncer's error text, or null when done.
 *
 * <p>Threading: any thread. What belongs to a connection is done on its event loop; waiting (for
 * servers to be released, buffers to drain, clients to leave) is a check on the {@link #scheduler}
 * every 100 ms.
 */
public final class Controller {
  private static final Logger log = LoggerFactory.getLogger(Controller.class);
  private static final long CHECK_MILLIS = 100;

  /** What SHUTDOWN waits for before the process ends. */
  public enum Shutdown {
    NONE,
    WAIT_FOR_SERVERS,
    WAIT_FOR_CLIENTS
  }

  /** What the controller acts on; implemented by the running jbouncer. */
  public interface Process {
    /** Stops or restarts accepting connections on every listener (SUSPEND, RESUME). */
    void acceptConnections(boolean accept);

    /** Closes the listeners for good (SHUTDOWN WAIT_FOR_*, SIGTERM, SIGINT). */
    void closeListeners();

    /** Closes everything and ends; returns at once, the work happens on another thread. */
    void exit();

    /** Channels of every client (but admin consoles) and server, for SUSPEND. */
    List<Channel> channels();
  }

  private final Pooler pooler;
  private final EventLoop scheduler;
  private volatile @Nullable Process process;
  private volatile boolean suspended;
  private volatile Shutdown shutdown = Shutdown.NONE;

  public Controller(Pooler pooler, EventLoop scheduler) {
    this.pooler = pooler;
    this.scheduler = scheduler;
  }

  /** The running process; set once it listens. */
  public void attach(Process process) {
    this.process = process;
  }

  public boolean isSuspended() {
    return suspended;
  }

  public Shutdown shutdown() {
    return shutdown;
  }

  /** Completes once {@code condition} holds (checked every 100 ms on the scheduler). */
  public CompletableFuture<Void> when(BooleanSupplier condition) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Runnable check =
        new Runnable() {
          @Override
          public void run() {
            if (done.isDone()) {
              return;
            }
            if (condition.getAsBoolean()) {
              done.complete(null);
            } else {
              scheduler.schedule(this, CHECK_MILLIS, TimeUnit.MILLISECONDS);
            }
          }
        };
    scheduler.execute(check);
    return done;
  }

  // --- PAUSE / RESUME ---

  /** PAUSE: no server is handed out, each is closed as it is released; null or an error. */
  public @Nullable String pause(@Nullable String database) {
    if (suspended || pooler.isPausedAll()) {
      return "already suspended/paused";
    }
    if (database == null) {
      log.info("PAUSE command issued");
      pooler.pauseAll(true);
    } else {
      String error = checkDatabase(database, "cannot pause admin db: ");
      if (error != null) {
        return error;
      }
      log.info("PAUSE '{}' command issued", database);
      pooler.pauseDatabase(database, true);
    }
    for (Pool pool : pools(database)) {
      pool.closeIdle("pause mode");
    }
    return null;
  }

  /** True once the paused pools have no server left (released ones are closed). */
  public boolean paused(@Nullable String database) {
    for (Pool pool : pools(database)) {
      if (pool.counts().servers() > 0) {
        return false;
      }
    }
    return true;
  }

  /** RESUME: ends PAUSE or SUSPEND (of every database, or of one paused on its own). */
  public @Nullable String resume(@Nullable String database) {
    if (database != null) {
      if (pooler.settings().database(database) == null && pools(database).isEmpty()) {
        return "no such database: " + database;
      }
      if (!pooler.pauseDatabase(database, false)) {
        return "database " + database + " is not paused";
      }
      log.info("RESUME '{}' command issued", database);
      pools(database).forEach(Pool::resume);
      return null;
    }
    if (shutdown != Shutdown.NONE) {
      return "pooler is shutting down";
    }
    if (!suspended && !pooler.isPausedAll()) {
      return "pooler is not paused/suspended";
    }
    log.info("RESUME command issued");
    if (suspended) {
      resumeReading();
    }
    pooler.pauseAll(false);
    pooler.pools().forEach(Pool::resume);
    return null;
  }

  // --- SUSPEND ---

  /** SUSPEND: nothing is read any more, from clients, servers or listeners; null or an error. */
  public @Nullable String suspend() {
    if (suspended || pooler.isPausedAll()) {
      return "already suspended/paused";
    }
    for (Pool pool : pooler.pools()) {
      if (pooler.isPaused(pool.key().database())) {
        return "cannot suspend with paused databases";
      }
    }
    log.info("SUSPEND command issued");
    suspended = true;
    pooler.suspended(true);
    Process p = process;
    if (p != null) {
      p.acceptConnections(false);
      // on each channel's loop: from another thread Netty may still read once more
      p.channels().forEach(ch -> ch.eventLoop().execute(() -> ch.config().setAutoRead(false)));
    }
    return null;
  }

  /** True once every channel's write buffer is empty after SUSPEND. */
  public boolean flushed() {
    Process p = process;
    if (p == null) {
      return true;
    }
    for (Channel ch : p.channels()) {
      var buffer = ch.unsafe().outboundBuffer();
      if (ch.isActive() && buffer != null && buffer.totalPendingWriteBytes() > 0) {
        return false;
      }
    }
    return true;
  }

  /** The console that suspended jbouncer went away: PgBouncer resumes. */
  public void suspenderLeft() {
    if (suspended) {
      log.info("admin disappeared when suspended, doing RESUME");
      resumeReading();
      pooler.pauseAll(false);
    }
  }

  private void resumeReading() {
    suspended = false;
    pooler.suspended(false);
    Process p = process;
    if (p != null) {
      // on each channel's loop too, queued behind SUSPEND's own task: set from here at once, a
      // RESUME right after SUSPEND could run first and leave a channel unread for good.
      // Backpressure pauses reading again wherever a peer is still full.
      p.channels().forEach(ch -> ch.eventLoop().execute(() -> ch.config().setAutoRead(true)));
      p.acceptConnections(true);
    }
  }

  // --- DISABLE / ENABLE / RECONNECT / WAIT_CLOSE ---

  public @Nullable String disable(String database, boolean disabled) {
    if (database.isEmpty()) {
      return "a database is required";
    }
    String error =
        checkDatabase(
            database, disabled ? "cannot disable admin db: " : "cannot enable admin db: ");
    if (error != null) {
      return error;
    }
    log.info("{} '{}' command issued", disabled ? "DISABLE" : "ENABLE", database);
    pooler.disableDatabase(database, disabled);
    return null;
  }

  /** RECONNECT: every server of the database(s) is closed once released (close_needed). */
  public @Nullable String reconnect(@Nullable String database) {
    if (database != null) {
      String error = checkDatabase(database, "cannot reconnect admin db: ");
      if (error != null) {
        return error;
      }
      log.info("RECONNECT '{}' command issued", database);
    } else {
      log.info("RECONNECT command issued");
    }
    pools(database).forEach(Pool::reconnect);
    return null;
  }

  public @Nullable String checkWaitClose(@Nullable String database) {
    if (database != null) {
      String error = checkDatabase(database, "cannot wait in admin db: ");
      if (error != null) {
        return error;
      }
      log.info("WAIT_CLOSE '{}' command issued", database);
    } else {
      log.info("WAIT_CLOSE command issued");
    }
    return null;
  }

  /** True once no server of the database(s) is close_needed any more. */
  public boolean closed(@Nullable String database) {
    for (Pool pool : pools(database)) {
      for (ServerConnection server : pool.servers()) {
        if (server.closeNeeded()) {
          return false;
        }
      }
    }
    return true;
  }

  // --- KILL ---

  /**
   * KILL: the database(s) are paused, and every client and server of them is closed ("database
   * removed"); they stay paused until RESUME.
   */
  public CompletableFuture<@Nullable String> kill(@Nullable String database) {
    if (suspended || (database == null && pooler.isPausedAll())) {
      return CompletableFuture.completedFuture("already suspended/paused");
    }
    if (database != null) {
      String error = checkDatabase(database, "cannot kill admin db: ");
      if (error != null) {
        return CompletableFuture.completedFuture(error);
      }
      log.info("KILL '{}' command issued", database);
      pooler.pauseDatabase(database, true);
    } else {
      log.info("KILL command issued");
      pooler.pauseAll(true);
    }
    return pooler
        .onEveryLoop(
            loop -> {
              for (ClientConnection client : List.copyOf(pooler.loopClients(loop))) {
                String db = client.poolDatabase();
                if (db != null && (database == null || database.equals(db))) {
                  client.fatal(SqlState.PROTOCOL_VIOLATION, "database removed");
                }
              }
              return null;
            })
        .thenApply(
            done -> {
              pools(database).forEach(pool -> pool.closeAll("database removed"));
              return null;
            });
  }

  /** KILL_CLIENT: closes the client with that id ("admin forced disconnect"). */
  public CompletableFuture<@Nullable String> killClient(String id) {
    long wanted;
    try {
      wanted = Long.parseLong(id);
    } catch (NumberFormatException e) {
      return CompletableFuture.completedFuture("invalid client pointer supplied");
    }
    return pooler
        .onEveryLoop(
            loop -> {
              for (ClientConnection client : List.copyOf(pooler.loopClients(loop))) {
                if (client.id() == wanted && client.isLoggedIn()) {
                  client.fatal(SqlState.PROTOCOL_VIOLATION, "admin forced disconnect");
                  return true;
                }
              }
              return false;
            })
        .thenApply(found -> found.contains(true) ? null : "client not found");
  }

  // --- SHUTDOWN ---

  /**
   * SHUTDOWN WAIT_FOR_SERVERS / WAIT_FOR_CLIENTS (and SIGINT / SIGTERM): the listeners close, and
   * the process ends once no server is busy, or once every client has left. With WAIT_FOR_SERVERS
   * clients are not given servers any more: those that would wait get "server shutting down".
   */
  public void shutdown(Shutdown mode) {
    if (shutdown != Shutdown.NONE) {
      return;
    }
    shutdown = mode;
    Process p = process;
    if (p != null) {
      p.closeListeners();
    }
    if (mode == Shutdown.WAIT_FOR_SERVERS) {
      pooler.refuseWaiters();
      pooler.pauseAll(true);
      pooler.pools().forEach(pool -> pool.closeIdle("pause mode"));
      pooler.onEveryLoop(
          loop -> {
            for (ClientConnection client : List.copyOf(pooler.loopClients(loop))) {
              if (client.isWaiting()) {
                client.fatal(SqlState.PROTOCOL_VIOLATION, "server shutting down");
              }
            }
            return null;
          });
      when(() -> paused(null))
          .thenRun(
              () -> {
                log.info("server connections dropped, exiting");
                exit();
              });
    } else {
      when(() -> pooler.clientCount() == 0)
          .thenRun(
              () -> {
                log.info("client connections dropped, exiting");
                exit();
              });
    }
  }

  /** SHUTDOWN, a second signal, or SIGQUIT: everything closes now. */
  public void exit() {
    Process p = process;
    if (p != null) {
      p.exit();
    }
  }

  // --- helpers ---

  private @Nullable String checkDatabase(String database, String adminError) {
    if (database.equals(io.jbouncer.admin.Admin.DATABASE)) {
      return adminError + database;
    }
    if (pooler.settings().database(database) == null) {
      return "no such database: " + database;
    }
    return null;
  }

  /** The pools of {@code database}, or every pool. */
  private List<Pool> pools(@Nullable String database) {
    return pooler.pools().stream()
        .filter(p -> database == null || p.key().database().equals(database))
        .toList();
  }
}

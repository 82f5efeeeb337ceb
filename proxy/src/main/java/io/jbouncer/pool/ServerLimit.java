package io.jbouncer.pool;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cap on server connections shared by several pools: {@code max_user_connections} (one per server
 * user, across databases) and {@code max_db_connections} (one per database, across users). As in
 * PgBouncer, a pool that hits the cap while clients wait gets an idle server of another pool under
 * the same cap closed ("evicted") to make room, and otherwise waits until one frees up.
 *
 * <p>Lock-free: counts are reserved with compare-and-set before a server is opened and released
 * when it is gone; pools are poked only after they released their own locks.
 */
public final class ServerLimit {
  private static final Logger log = LoggerFactory.getLogger(ServerLimit.class);

  private final String setting;
  private final String owner;
  private volatile int max; // 0 = no cap: servers are still counted, RELOAD may set one
  private final AtomicInteger servers = new AtomicInteger();
  private final Set<Pool> pools = ConcurrentHashMap.newKeySet();
  private final Set<Pool> waitingForRoom = ConcurrentHashMap.newKeySet();

  /**
   * @param setting the key that sets it, for logs ({@code max_user_connections})
   * @param owner the user or database it caps
   * @param max at most this many servers; 0 = no cap
   */
  public ServerLimit(String setting, String owner, int max) {
    this.setting = setting;
    this.owner = owner;
    this.max = max;
  }

  void join(Pool pool) {
    pools.add(pool);
  }

  /** RELOAD: the new cap (0 = none). Pools waiting for room may find some. */
  public void setMax(int max) {
    this.max = max;
    pokeWaiting();
  }

  /** Takes a slot for a new server, or returns false when the cap is reached. */
  boolean tryReserve() {
    while (true) {
      int now = servers.get();
      int cap = max;
      if (cap > 0 && now >= cap) {
        return false;
      }
      if (servers.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** A server counted here is gone: pools waiting for room may open one now. */
  void release() {
    servers.decrementAndGet();
    pokeWaiting();
  }

  /**
   * Gives back a slot reserved for a server that will not be opened after all. Safe under a pool's
   * lock: it touches no pool. The caller pokes the waiting pools once it has unlocked.
   */
  void unreserve() {
    servers.decrementAndGet();
  }

  /** Lets the pools that waited for room try again; never call it holding a pool's lock. */
  void pokeWaiting() {
    for (Pool pool : waitingForRoom) {
      waitingForRoom.remove(pool);
      pool.roomFreed();
    }
  }

  /**
   * {@code pool} has waiting clients and no room: remember it, and close an idle server of another
   * pool under this cap, if there is one.
   */
  void makeRoomFor(Pool pool) {
    waitingForRoom.add(pool);
    for (Pool other : pools) {
      if (other != pool && other.evictOneIdle(setting + " for " + owner)) {
        log.info(
            "{}: {} reached ({}), evicted an idle server of {}",
            pool.key(),
            setting,
            max,
            other.key());
        return;
      }
    }
  }

  /** True when a pool other than {@code pool} waits for room under this cap. */
  boolean othersWaiting(Pool pool) {
    for (Pool waiting : waitingForRoom) {
      if (waiting != pool) {
        return true;
      }
    }
    return false;
  }

  /** Servers counted against the cap now (for tests). */
  public int servers() {
    return servers.get();
  }
}

package io.jbouncer.pool;

/**
 * PgBouncer's per-pool counters, one instance per (pool, event loop): only that loop writes them,
 * with plain field updates on the relay path, and only a task on that loop reads them ({@link
 * #copy}), so they need neither locks nor atomics. Times are in microseconds, as SHOW STATS prints
 * them.
 */
public final class PoolStats {
  public long serverAssignments;
  public long xacts;
  public long queries;
  public long clientBytes; // received from clients
  public long serverBytes; // sent to clients from servers
  public long xactTimeUs;
  public long queryTimeUs;
  public long waitTimeUs;
  public long clientParses; // named Parse messages from clients
  public long serverParses; // named Parse messages sent to servers
  public long binds; // Bind messages for named statements
  public long clientLogins;
  // jbouncer's own, not in SHOW STATS (whose columns are PgBouncer's): SHOW PINNED
  public long pins; // clients pinned to their server by session state (LISTEN, temp table...)
  public long discardsAnsweredLocally; // DISCARD ALL answered without a server

  /** A copy, taken on the owning loop. */
  public PoolStats copy() {
    PoolStats c = new PoolStats();
    c.add(this);
    return c;
  }

  /** Adds {@code other}'s counts to these. */
  public void add(PoolStats other) {
    serverAssignments += other.serverAssignments;
    xacts += other.xacts;
    queries += other.queries;
    clientBytes += other.clientBytes;
    serverBytes += other.serverBytes;
    xactTimeUs += other.xactTimeUs;
    queryTimeUs += other.queryTimeUs;
    waitTimeUs += other.waitTimeUs;
    clientParses += other.clientParses;
    serverParses += other.serverParses;
    binds += other.binds;
    clientLogins += other.clientLogins;
    pins += other.pins;
    discardsAnsweredLocally += other.discardsAnsweredLocally;
  }

  /**
   * PgBouncer's averages between {@code older} and these totals over {@code micros}: counts and
   * bytes per second; times per transaction, per query and per server assignment.
   */
  public Averages averagesSince(PoolStats older, long micros) {
    long d = Math.max(1, micros);
    return new Averages(
        perSecond(serverAssignments - older.serverAssignments, d),
        perSecond(xacts - older.xacts, d),
        perSecond(queries - older.queries, d),
        perSecond(clientBytes - older.clientBytes, d),
        perSecond(serverBytes - older.serverBytes, d),
        per(xactTimeUs - older.xactTimeUs, xacts - older.xacts),
        per(queryTimeUs - older.queryTimeUs, queries - older.queries),
        per(waitTimeUs - older.waitTimeUs, serverAssignments - older.serverAssignments),
        perSecond(clientParses - older.clientParses, d),
        perSecond(serverParses - older.serverParses, d),
        perSecond(binds - older.binds, d),
        perSecond(clientLogins - older.clientLogins, d));
  }

  private static long perSecond(long delta, long micros) {
    return delta * 1_000_000L / micros;
  }

  private static long per(long total, long count) {
    return count <= 0 ? 0 : total / count;
  }

  /** Averages over one stats period, as SHOW STATS and log_stats print them. */
  public record Averages(
      long serverAssignments,
      long xacts,
      long queries,
      long clientBytes,
      long serverBytes,
      long xactTimeUs,
      long queryTimeUs,
      long waitTimeUs,
      long clientParses,
      long serverParses,
      long binds,
      long clientLogins) {
    public static final Averages ZERO = new Averages(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  }
}

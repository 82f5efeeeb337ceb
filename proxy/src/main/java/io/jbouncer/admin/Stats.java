package io.jbouncer.admin;

import io.jbouncer.Pooler;
import io.jbouncer.pool.Pool;
import io.jbouncer.pool.PoolKey;
import io.jbouncer.pool.PoolStats;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SHOW STATS, STATS_TOTALS, STATS_AVERAGES, TOTALS and the {@code log_stats} line.
 *
 * <p>Totals are the live sum of every event loop's counters ({@link PoolStats}), gathered on the
 * loops when asked. Averages are PgBouncer's: the change between the last two {@code stats_period}
 * ticks, per second for counts and bytes, per transaction, query or server assignment for times.
 * Databases are summed over their pools.
 */
public final class Stats {
  private static final Logger log = LoggerFactory.getLogger(Stats.class);

  private final Pooler pooler;
  // the last two ticks, replaced whole by tick(); read by any console
  private volatile Window window = new Window(Map.of(), 0, Map.of(), 0);

  /** Totals by database at two ticks (System.nanoTime()). */
  private record Window(
      Map<String, PoolStats> older,
      long olderNanos,
      Map<String, PoolStats> newer,
      long newerNanos) {
    PoolStats.Averages averages(String database) {
      PoolStats now = newer.get(database);
      if (now == null || olderNanos == 0) {
        return PoolStats.Averages.ZERO;
      }
      PoolStats before = older.getOrDefault(database, new PoolStats());
      return now.averagesSince(before, (newerNanos - olderNanos) / 1000);
    }
  }

  Stats(Pooler pooler) {
    this.pooler = pooler;
  }

  /** Totals by database, gathered from every loop; sorted by database name. */
  CompletableFuture<Map<String, PoolStats>> collect() {
    return pooler
        .onEveryLoop(
            loop -> {
              Map<PoolKey, PoolStats> counts = new TreeMap<>(Admin.POOL_ORDER);
              for (Pool pool : pooler.pools()) {
                counts.put(pool.key(), pool.statsOn(loop));
              }
              return counts;
            })
        .thenApply(Stats::byDatabase);
  }

  private static Map<String, PoolStats> byDatabase(List<Map<PoolKey, PoolStats>> perLoop) {
    Map<String, PoolStats> totals = new TreeMap<>();
    for (Map<PoolKey, PoolStats> loop : perLoop) {
      loop.forEach(
          (key, counts) ->
              totals.computeIfAbsent(key.database(), d -> new PoolStats()).add(counts));
    }
    return totals;
  }

  /**
   * One {@code stats_period} tick: the newer totals become the older, fresh ones the newer, and
   * with {@code log_stats} PgBouncer's line is logged for the whole pooler.
   */
  public void tick() {
    collect()
        .thenAccept(
            totals -> {
              Window previous = window;
              Window next =
                  new Window(previous.newer(), previous.newerNanos(), totals, System.nanoTime());
              window = next;
              if (pooler.settings().logStats() && previous.newerNanos() != 0) {
                PoolStats all = sum(next.newer());
                PoolStats before = sum(next.older());
                PoolStats.Averages a =
                    all.averagesSince(before, (next.newerNanos() - next.olderNanos()) / 1000);
                log.info(
                    "stats: {} xacts/s, {} queries/s, {} client parses/s, {} server parses/s, {}"
                        + " binds/s, in {} B/s, out {} B/s, xact {} us, query {} us, wait {} us",
                    a.xacts(),
                    a.queries(),
                    a.clientParses(),
                    a.serverParses(),
                    a.binds(),
                    a.clientBytes(),
                    a.serverBytes(),
                    a.xactTimeUs(),
                    a.queryTimeUs(),
                    a.waitTimeUs());
              }
            });
  }

  private static PoolStats sum(Map<String, PoolStats> byDatabase) {
    PoolStats all = new PoolStats();
    byDatabase.values().forEach(all::add);
    return all;
  }

  Table show(Map<String, PoolStats> totals) {
    Table t =
        Table.of(
            "database:s",
            "total_server_assignment_count:N",
            "total_xact_count:N",
            "total_query_count:N",
            "total_received:N",
            "total_sent:N",
            "total_xact_time:N",
            "total_query_time:N",
            "total_wait_time:N",
            "total_client_parse_count:N",
            "total_server_parse_count:N",
            "total_bind_count:N",
            "total_client_login_count:N",
            "avg_server_assignment_count:N",
            "avg_xact_count:N",
            "avg_query_count:N",
            "avg_recv:N",
            "avg_sent:N",
            "avg_xact_time:N",
            "avg_query_time:N",
            "avg_wait_time:N",
            "avg_client_parse_count:N",
            "avg_server_parse_count:N",
            "avg_bind_count:N",
            "avg_client_login_count:N");
    Window w = window;
    forEachDatabase(
        totals,
        (database, s) -> {
          PoolStats.Averages a = w.averages(database);
          t.row(
              database,
              s.serverAssignments,
              s.xacts,
              s.queries,
              s.clientBytes,
              s.serverBytes,
              s.xactTimeUs,
              s.queryTimeUs,
              s.waitTimeUs,
              s.clientParses,
              s.serverParses,
              s.binds,
              s.clientLogins,
              a.serverAssignments(),
              a.xacts(),
              a.queries(),
              a.clientBytes(),
              a.serverBytes(),
              a.xactTimeUs(),
              a.queryTimeUs(),
              a.waitTimeUs(),
              a.clientParses(),
              a.serverParses(),
              a.binds(),
              a.clientLogins());
        });
    return t;
  }

  Table showTotals(Map<String, PoolStats> totals) {
    Table t =
        Table.of(
            "database:s",
            "server_assignment_count:N",
            "xact_count:N",
            "query_count:N",
            "bytes_received:N",
            "bytes_sent:N",
            "xact_time:N",
            "query_time:N",
            "wait_time:N",
            "client_parse_count:N",
            "server_parse_count:N",
            "bind_count:N",
            "client_login_count:N");
    forEachDatabase(
        totals,
        (database, s) ->
            t.row(
                database,
                s.serverAssignments,
                s.xacts,
                s.queries,
                s.clientBytes,
                s.serverBytes,
                s.xactTimeUs,
                s.queryTimeUs,
                s.waitTimeUs,
                s.clientParses,
                s.serverParses,
                s.binds,
                s.clientLogins));
    return t;
  }

  Table showAverages(Map<String, PoolStats> totals) {
    Table t =
        Table.of(
            "database:s",
            "server_assignment_count:N",
            "xact_count:N",
            "query_count:N",
            "bytes_received:N",
            "bytes_sent:N",
            "xact_time:N",
            "query_time:N",
            "wait_time:N",
            "avg_client_parse_count:N",
            "avg_server_parse_count:N",
            "avg_bind_count:N",
            "avg_client_login_count:N");
    Window w = window;
    forEachDatabase(
        totals,
        (database, s) -> {
          PoolStats.Averages a = w.averages(database);
          t.row(
              database,
              a.serverAssignments(),
              a.xacts(),
              a.queries(),
              a.clientBytes(),
              a.serverBytes(),
              a.xactTimeUs(),
              a.queryTimeUs(),
              a.waitTimeUs(),
              a.clientParses(),
              a.serverParses(),
              a.binds(),
              a.clientLogins());
        });
    return t;
  }

  /** SHOW TOTALS: the whole pooler, one value a row. */
  Table showOverall(Map<String, PoolStats> totals) {
    PoolStats s = sum(totals);
    Window w = window;
    PoolStats.Averages a =
        w.olderNanos() == 0
            ? PoolStats.Averages.ZERO
            : sum(w.newer())
                .averagesSince(sum(w.older()), (w.newerNanos() - w.olderNanos()) / 1000);
    Table t = Table.of("name:s", "value:N");
    t.row("total_server_assignment_count", s.serverAssignments);
    t.row("total_xact_count", s.xacts);
    t.row("total_query_count", s.queries);
    t.row("total_client_bytes", s.clientBytes);
    t.row("total_server_bytes", s.serverBytes);
    t.row("total_xact_time", s.xactTimeUs);
    t.row("total_query_time", s.queryTimeUs);
    t.row("total_wait_time", s.waitTimeUs);
    t.row("total_ps_client_parse_count", s.clientParses);
    t.row("total_ps_server_parse_count", s.serverParses);
    t.row("total_ps_bind_count", s.binds);
    t.row("total_client_login_count", s.clientLogins);
    t.row("avg_server_assignment_count", a.serverAssignments());
    t.row("avg_xact_count", a.xacts());
    t.row("avg_query_count", a.queries());
    t.row("avg_client_bytes", a.clientBytes());
    t.row("avg_server_bytes", a.serverBytes());
    t.row("avg_xact_time", a.xactTimeUs());
    t.row("avg_query_time", a.queryTimeUs());
    t.row("avg_wait_time", a.waitTimeUs());
    t.row("avg_ps_client_parse_count", a.clientParses());
    t.row("avg_ps_server_parse_count", a.serverParses());
    t.row("avg_ps_bind_count", a.binds());
    t.row("avg_client_login_count", a.clientLogins());
    return t;
  }

  /** Every database with pools, and the console's own, in name order. */
  private static void forEachDatabase(
      Map<String, PoolStats> totals, java.util.function.BiConsumer<String, PoolStats> row) {
    Map<String, PoolStats> all = new TreeMap<>(totals);
    all.putIfAbsent(Admin.DATABASE, new PoolStats());
    all.forEach(row);
  }
}

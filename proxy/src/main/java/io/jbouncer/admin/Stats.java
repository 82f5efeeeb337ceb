package io.jbouncer.admin;

import io.jbouncer.Pooler;
import io.jbouncer.pool.Pool;
import io.jbouncer.pool.PoolKey;
import io.jbouncer.pool.PoolStats;
import java.util.ArrayList;
import java.util.Arrays;
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

  /** The twelve counters in PgBouncer's column order. */
  private static long[] values(PoolStats s) {
    return new long[] {
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
      s.clientLogins
    };
  }

  private static long[] values(PoolStats.Averages a) {
    return new long[] {
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
      a.clientLogins()
    };
  }

  private static final List<String> STATS_TOTALS =
      List.of(
          "total_server_assignment_count",
          "total_xact_count",
          "total_query_count",
          "total_received",
          "total_sent",
          "total_xact_time",
          "total_query_time",
          "total_wait_time",
          "total_client_parse_count",
          "total_server_parse_count",
          "total_bind_count",
          "total_client_login_count");
  private static final List<String> STATS_AVERAGES =
      List.of(
          "avg_server_assignment_count",
          "avg_xact_count",
          "avg_query_count",
          "avg_recv",
          "avg_sent",
          "avg_xact_time",
          "avg_query_time",
          "avg_wait_time",
          "avg_client_parse_count",
          "avg_server_parse_count",
          "avg_bind_count",
          "avg_client_login_count");

  /** SHOW STATS_TOTALS and STATS_AVERAGES name the same counters without total_ / avg_... */
  private static final List<String> PLAIN =
      List.of(
          "server_assignment_count",
          "xact_count",
          "query_count",
          "bytes_received",
          "bytes_sent",
          "xact_time",
          "query_time",
          "wait_time",
          "client_parse_count",
          "server_parse_count",
          "bind_count",
          "client_login_count");

  /** ...but STATS_AVERAGES keeps avg_ on the last four. */
  private static final List<String> PLAIN_AVERAGES =
      List.of(
          "server_assignment_count",
          "xact_count",
          "query_count",
          "bytes_received",
          "bytes_sent",
          "xact_time",
          "query_time",
          "wait_time",
          "avg_client_parse_count",
          "avg_server_parse_count",
          "avg_bind_count",
          "avg_client_login_count");

  /** SHOW TOTALS' row names after total_ and avg_. */
  private static final List<String> OVERALL =
      List.of(
          "server_assignment_count",
          "xact_count",
          "query_count",
          "client_bytes",
          "server_bytes",
          "xact_time",
          "query_time",
          "wait_time",
          "ps_client_parse_count",
          "ps_server_parse_count",
          "ps_bind_count",
          "client_login_count");

  /** A table of a database column and the named numeric columns, one row per database. */
  private Table perDatabase(
      Map<String, PoolStats> totals,
      List<String> columns,
      java.util.function.BiFunction<String, PoolStats, long[]> values) {
    List<String> all = new ArrayList<>();
    all.add("database:s");
    columns.forEach(c -> all.add(c + ":N"));
    Table t = Table.of(all.toArray(String[]::new));
    forEachDatabase(
        totals,
        (database, s) -> {
          List<Object> row = new ArrayList<>();
          row.add(database);
          for (long v : values.apply(database, s)) {
            row.add(v);
          }
          t.row(row.toArray());
        });
    return t;
  }

  Table show(Map<String, PoolStats> totals) {
    Window w = window;
    List<String> columns = new ArrayList<>(STATS_TOTALS);
    columns.addAll(STATS_AVERAGES);
    return perDatabase(
        totals,
        columns,
        (database, s) -> {
          long[] both = Arrays.copyOf(values(s), 24);
          System.arraycopy(values(w.averages(database)), 0, both, 12, 12);
          return both;
        });
  }

  Table showTotals(Map<String, PoolStats> totals) {
    return perDatabase(totals, PLAIN, (database, s) -> values(s));
  }

  Table showAverages(Map<String, PoolStats> totals) {
    Window w = window;
    return perDatabase(totals, PLAIN_AVERAGES, (database, s) -> values(w.averages(database)));
  }

  /** SHOW TOTALS: the whole pooler, one value a row. */
  Table showOverall(Map<String, PoolStats> totals) {
    Window w = window;
    long[] sums = values(sum(totals));
    long[] averages =
        values(
            w.olderNanos() == 0
                ? PoolStats.Averages.ZERO
                : sum(w.newer())
                    .averagesSince(sum(w.older()), (w.newerNanos() - w.olderNanos()) / 1000));
    Table t = Table.of("name:s", "value:N");
    for (int i = 0; i < OVERALL.size(); i++) {
      t.row("total_" + OVERALL.get(i), sums[i]);
    }
    for (int i = 0; i < OVERALL.size(); i++) {
      t.row("avg_" + OVERALL.get(i), averages[i]);
    }
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

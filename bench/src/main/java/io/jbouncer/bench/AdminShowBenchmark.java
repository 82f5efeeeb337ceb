package io.jbouncer.bench;

import io.jbouncer.JBouncer;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A round trip of {@code SHOW POOLS} and {@code SHOW STATS} on the admin console (simple query
 * protocol, database {@code pgbouncer}) of a jbouncer with {@code pools} pools, each with one idle
 * server on a {@link FakePostgres} and one query counted. Monitoring polls these every few seconds
 * (pgbouncer_exporter, Datadog), so their cost grows with the pools and lands on the event loops
 * that also relay queries: SHOW POOLS takes every pool's lock and looks at every server, SHOW STATS
 * gathers the counters on every event loop, and both build a row per pool or database.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Dio.netty.leakDetection.level=disabled", "-Xms256m", "-Xmx256m"})
public class AdminShowBenchmark {
  private static final byte[] SHOW_POOLS = PgClient.queryFrame("SHOW POOLS");
  private static final byte[] SHOW_STATS = PgClient.queryFrame("SHOW STATS");
  private static final byte[] SELECT_ONE = PgClient.queryFrame("SELECT 1");

  @Param({"10", "100", "1000"})
  int pools;

  private FakePostgres postgres;
  private JBouncer bouncer;
  private PgClient console;

  @Setup
  public void setUp() throws InterruptedException, IOException {
    postgres = FakePostgres.start();
    bouncer = RelayRoundTripBenchmark.startJBouncer(postgres, "transaction", 1, pools);
    for (int i = 0; i < pools; i++) {
      try (PgClient client =
          PgClient.connect(
              bouncer.localAddress(),
              RelayRoundTripBenchmark.USER,
              RelayRoundTripBenchmark.databaseName(i, pools))) {
        client.query(SELECT_ONE);
      }
    }
    console = PgClient.connect(bouncer.localAddress(), RelayRoundTripBenchmark.USER, "pgbouncer");
    // a row per pool and the console's own: the pools are all there
    int rows = console.query(SHOW_POOLS);
    if (rows != pools + 1) {
      throw new IllegalStateException(
          "SHOW POOLS: " + rows + " rows (expected: " + (pools + 1) + ")");
    }
  }

  @TearDown
  public void tearDown() {
    console.close();
    bouncer.close();
    postgres.close();
  }

  /** Returns the rows, which must be pools + 1. */
  @Benchmark
  public int showPools() throws IOException {
    return console.query(SHOW_POOLS);
  }

  /** Returns the rows, which must be pools + 1. */
  @Benchmark
  public int showStats() throws IOException {
    return console.query(SHOW_STATS);
  }
}

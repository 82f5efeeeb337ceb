package io.jbouncer.bench;

import com.typesafe.config.ConfigFactory;
import io.jbouncer.JBouncer;
import io.jbouncer.config.ConfigLoader;
import io.jbouncer.pool.Pool;
import io.jbouncer.pool.PoolStats;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pool's server checkout and checkin ({@link Pool#acquire} and {@link Pool#release}) under
 * contention: {@value #CLIENTS} clients share a pool of {@value #SERVERS} servers, so a checkout
 * that comes while both servers are busy waits in line until another client's transaction gives one
 * back, and jbouncer runs {@code workerThreads} event loops (1, 2, 4), over which its acceptor
 * spreads the clients. With one loop every hand-over is a call on that loop; with four, each client
 * has its own loop and a released server reaches a waiting client through the pool's lock and
 * {@code eventLoop().execute}.
 *
 * <p>The pool is driven through a real jbouncer in {@code pool_mode = transaction} in front of a
 * {@link FakePostgres}, not built on its own: {@code ClientConnection} is final and gets its
 * channel, pool and counters only by logging in, and {@code acquire} ends in its {@code
 * serverAssigned}, which relays the query the client is waiting with. So <b>one operation is one
 * client's {@code SELECT 1} transaction</b>: the Query is sent, jbouncer checks a server out for it
 * (waiting if both are busy), relays the Query and the reply, and checks the server back in on
 * ReadyForQuery 'I' (handing it to the next waiting client, or to the idle list). Each operation
 * holds exactly one checkout and one checkin, and also the relay and four loopback hops, which are
 * most of its time; the score is one client's time per transaction (the four together complete four
 * in it). To show the checkout more directly, each iteration also prints jbouncer's own {@code
 * avg_wait_time}: the mean time from a client asking the pool for a server to the server being
 * assigned on the client's loop, over all checkouts of the iteration, waited or not. For one that
 * waited, that includes the rest of the transaction it waited behind, not only the pool's lock and
 * hand-over; and jbouncer sums it in whole microseconds per checkout, so it reads a little low.
 * Compare the scores with {@link RelayRoundTripBenchmark}, whose {@code oneClientSessionMode} is
 * the relay without the pool.
 *
 * <p>Run with {@code java -jar bench/target/benchmarks.jar PoolCheckoutBenchmark}. On a machine
 * with few cores the client threads, jbouncer's loops and the fake server compete for them, so read
 * the numbers relative to each other.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Dio.netty.leakDetection.level=disabled", "-Xms256m", "-Xmx256m"})
public class PoolCheckoutBenchmark {
  static final int CLIENTS = 4; // must match @Threads below
  static final int SERVERS = 2; // fewer than CLIENTS, so that checkouts wait
  private static final byte[] SELECT_ONE = PgClient.queryFrame("SELECT 1");

  /** The fake server and jbouncer in front of it, shared by the clients. */
  @State(Scope.Benchmark)
  public static class Proxy {
    @Param({"1", "2", "4"})
    int workerThreads;

    FakePostgres postgres;
    JBouncer bouncer;
    private PoolStats before = new PoolStats();

    @Setup
    public void start() throws InterruptedException {
      postgres = FakePostgres.start();
      bouncer = startJBouncer(postgres, workerThreads);
    }

    @Setup(Level.Iteration)
    public void markStats() throws Exception {
      before = poolStats();
    }

    /** Prints the iteration's checkouts and their mean wait as jbouncer counted them. */
    @TearDown(Level.Iteration)
    public void printStats() throws Exception {
      PoolStats now = poolStats();
      long checkouts = now.serverAssignments - before.serverAssignments;
      long waitUs = now.waitTimeUs - before.waitTimeUs;
      System.out.printf(
          "[%d checkouts, avg_wait_time %.2f us] ",
          checkouts, checkouts == 0 ? 0.0 : (double) waitUs / checkouts);
    }

    @TearDown
    public void stop() {
      int servers = postgres.logins();
      bouncer.close();
      postgres.close();
      // more logins would mean the pool opened servers instead of making clients wait
      if (servers > SERVERS) {
        throw new IllegalStateException(
            "jbouncer opened " + servers + " server connections (expected: <= " + SERVERS + ")");
      }
    }

    /** The counters of every pool summed over the loops, each read on its own loop. */
    private PoolStats poolStats()
        throws InterruptedException, ExecutionException, TimeoutException {
      List<PoolStats> perLoop =
          bouncer
              .pooler()
              .onEveryLoop(
                  loop -> {
                    PoolStats sum = new PoolStats();
                    bouncer.pooler().pools().forEach(pool -> sum.add(pool.statsOn(loop)));
                    return sum;
                  })
              .get(10, TimeUnit.SECONDS);
      PoolStats total = new PoolStats();
      perLoop.forEach(total::add);
      return total;
    }
  }

  /** One client connection per JMH thread. */
  @State(Scope.Thread)
  public static class Client {
    PgClient client;

    @Setup
    public void connect(Proxy proxy) throws IOException {
      client =
          PgClient.connect(
              proxy.bouncer.localAddress(),
              RelayRoundTripBenchmark.USER,
              RelayRoundTripBenchmark.DATABASE);
    }

    @TearDown
    public void close() {
      client.close();
    }
  }

  /** Returns the rows received, which must be 1. */
  @Benchmark
  @Threads(CLIENTS)
  public int transaction(Client client) throws IOException {
    return client.client.query(SELECT_ONE);
  }

  /**
   * Starts jbouncer in transaction mode with {@code workerThreads} event loops and a pool of {@link
   * #SERVERS} servers for database {@code bench} on {@code postgres}, as {@link
   * RelayRoundTripBenchmark#startJBouncer} does otherwise. Logging is off so that no log line is
   * part of the measurement.
   */
  private static JBouncer startJBouncer(FakePostgres postgres, int workerThreads)
      throws InterruptedException {
    String config =
        """
        jbouncer.pgbouncer {
          listen_addr = "127.0.0.1"
          listen_port = 0
          auth_type = any
          pool_mode = transaction
          default_pool_size = %d
          worker_threads = %d
          max_client_conn = 100
          log_connections = 0
          log_disconnections = 0
          log_pooler_errors = 0
          log_stats = 0
        }
        jbouncer.databases.%s { host = "127.0.0.1", port = %d, dbname = %s, user = %s }
        """
            .formatted(
                SERVERS,
                workerThreads,
                RelayRoundTripBenchmark.DATABASE,
                postgres.port(),
                RelayRoundTripBenchmark.DATABASE,
                RelayRoundTripBenchmark.USER);
    return JBouncer.start(ConfigLoader.fromConfig(ConfigFactory.parseString(config)));
  }
}

package io.jbouncer.bench;

import com.typesafe.config.ConfigFactory;
import io.jbouncer.JBouncer;
import io.jbouncer.config.ConfigLoader;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One simple-query round trip ({@code SELECT 1}: Query out, RowDescription, DataRow,
 * CommandComplete and ReadyForQuery back) through a real jbouncer in {@code pool_mode =
 * transaction}, in front of a {@link FakePostgres} that answers at once, so the time is jbouncer's
 * relay plus the loopback hops. In transaction mode every query takes a server from the pool and
 * gives it back on ReadyForQuery 'I', so each op also pays one checkout and one checkin; {@code
 * oneClientSessionMode} is the same client in session mode, where it keeps its server, so the
 * difference is the pool's share.
 *
 * <p>Each JMH thread is one client with its own connection, logged in once. {@code oneClient}
 * measures the uncontended path; {@code fourClients} runs four at once, and with {@code poolSize} 1
 * they queue for the one server, which is handed from client to client across event loops (the
 * pool's lock and {@code eventLoop().execute} hand-over under contention). The score is the time of
 * one client's round trip; the four together complete four in that time. Compare with {@link
 * DirectRoundTripBenchmark}, the same round trip without jbouncer. jbouncer runs with its default
 * one event loop per core; on a machine with few cores the client threads, jbouncer's loops and the
 * fake server compete for them, so read the numbers relative to each other.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Dio.netty.leakDetection.level=disabled", "-Xms256m", "-Xmx256m"})
public class RelayRoundTripBenchmark {
  static final String DATABASE = "bench";
  static final String USER = "bench";
  private static final byte[] SELECT_ONE = PgClient.queryFrame("SELECT 1");

  /** The fake server and jbouncer in front of it, shared by the clients. */
  @State(Scope.Benchmark)
  public static class Proxy {
    @Param({"1", "4"})
    int poolSize;

    FakePostgres postgres;
    JBouncer bouncer;

    @Setup
    public void start() throws InterruptedException {
      postgres = FakePostgres.start();
      bouncer = startJBouncer(postgres, "transaction", poolSize, 1);
    }

    @TearDown
    public void stop() {
      int servers = postgres.logins();
      bouncer.close();
      postgres.close();
      if (servers > poolSize) {
        throw new IllegalStateException(
            "jbouncer opened " + servers + " server connections (expected: <= " + poolSize + ")");
      }
    }
  }

  /** One client connection per JMH thread. */
  @State(Scope.Thread)
  public static class Client {
    PgClient client;

    @Setup
    public void connect(Proxy proxy) throws IOException {
      client = PgClient.connect(proxy.bouncer.localAddress(), USER, DATABASE);
    }

    @TearDown
    public void close() {
      client.close();
    }
  }

  /**
   * The same in {@code pool_mode = session}: the client keeps its server from its first query on,
   * so the pool is out of the loop and what is left is the relay alone.
   */
  @State(Scope.Benchmark)
  public static class SessionProxy {
    FakePostgres postgres;
    JBouncer bouncer;

    @Setup
    public void start() throws InterruptedException {
      postgres = FakePostgres.start();
      bouncer = startJBouncer(postgres, "session", 1, 1);
    }

    @TearDown
    public void stop() {
      bouncer.close();
      postgres.close();
    }
  }

  /** One client connection of {@link SessionProxy}; a single thread: the pool has one server. */
  @State(Scope.Thread)
  public static class SessionClient {
    PgClient client;

    @Setup
    public void connect(SessionProxy proxy) throws IOException {
      client = PgClient.connect(proxy.bouncer.localAddress(), USER, DATABASE);
    }

    @TearDown
    public void close() {
      client.close();
    }
  }

  /** Returns the rows received, which must be 1. */
  @Benchmark
  @Threads(1)
  public int oneClient(Client client) throws IOException {
    return client.client.query(SELECT_ONE);
  }

  /** Returns the rows received, which must be 1. */
  @Benchmark
  @Threads(4)
  public int fourClients(Client client) throws IOException {
    return client.client.query(SELECT_ONE);
  }

  /** Returns the rows received, which must be 1. */
  @Benchmark
  @Threads(1)
  public int oneClientSessionMode(SessionClient client) throws IOException {
    return client.client.query(SELECT_ONE);
  }

  /**
   * Starts jbouncer in {@code poolMode} on a free port of 127.0.0.1 with {@code databases} entries
   * ({@code bench} for one, else {@code bench000}, {@code bench001}...) all pointing at {@code
   * postgres} as user {@code bench}. {@code auth_type = any} needs no auth file; {@code bench} is
   * also an admin user. Logging is off so that no log line is part of the measurement.
   */
  static JBouncer startJBouncer(FakePostgres postgres, String poolMode, int poolSize, int databases)
      throws InterruptedException {
    StringBuilder config = new StringBuilder();
    config.append(
        """
        jbouncer.pgbouncer {
          listen_addr = "127.0.0.1"
          listen_port = 0
          auth_type = any
          admin_users = "%s"
          pool_mode = %s
          default_pool_size = %d
          max_client_conn = 10000
          log_connections = 0
          log_disconnections = 0
          log_pooler_errors = 0
          log_stats = 0
        }
        """
            .formatted(USER, poolMode, poolSize));
    for (int i = 0; i < databases; i++) {
      config.append(
          "jbouncer.databases.%s { host = \"127.0.0.1\", port = %d, dbname = %s, user = %s }\n"
              .formatted(databaseName(i, databases), postgres.port(), DATABASE, USER));
    }
    return JBouncer.start(ConfigLoader.fromConfig(ConfigFactory.parseString(config.toString())));
  }

  /** The name of database {@code i} of {@code databases} made by {@link #startJBouncer}. */
  static String databaseName(int i, int databases) {
    return databases == 1 ? DATABASE : String.format("%s%03d", DATABASE, i);
  }
}

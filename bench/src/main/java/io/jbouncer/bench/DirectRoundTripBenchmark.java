package io.jbouncer.bench;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The baseline of {@link RelayRoundTripBenchmark}: the same {@code SELECT 1} round trip and the
 * same clients, straight to the {@link FakePostgres} without jbouncer. What {@code
 * RelayRoundTripBenchmark} adds to this is jbouncer's cost: a second pair of loopback hops, its
 * event loops, the relay and the pool.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Dio.netty.leakDetection.level=disabled", "-Xms256m", "-Xmx256m"})
public class DirectRoundTripBenchmark {
  private static final byte[] SELECT_ONE = PgClient.queryFrame("SELECT 1");

  /** The fake server, shared by the clients. */
  @State(Scope.Benchmark)
  public static class Server {
    FakePostgres postgres;

    @Setup
    public void start() throws InterruptedException {
      postgres = FakePostgres.start();
    }

    @TearDown
    public void stop() {
      postgres.close();
    }
  }

  /** One connection per JMH thread. */
  @State(Scope.Thread)
  public static class Client {
    PgClient client;

    @Setup
    public void connect(Server server) throws IOException {
      client =
          PgClient.connect(
              server.postgres.address(),
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
}

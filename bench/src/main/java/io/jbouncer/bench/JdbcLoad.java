package io.jbouncer.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * pgjdbc as applications use it: THREADS connections, each running a PreparedStatement (pgbench's
 * select by key, with pgjdbc's default prepareThreshold, so server-side prepared after five uses)
 * for SECONDS, in autocommit. Prints transactions per second. What pgbench cannot show: the
 * extended protocol with pgjdbc's own startup parameters (DateStyle=ISO, extra_float_digits...).
 *
 * <pre>java -cp benchmarks.jar io.jbouncer.bench.JdbcLoad JDBC_URL THREADS SECONDS</pre>
 *
 * <p>The URL names a database with pgbench's tables, e.g. {@code
 * jdbc:postgresql://127.0.0.1:6432/bench?user=bench&password=x&sslmode=disable}.
 */
public final class JdbcLoad {
  private JdbcLoad() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: JdbcLoad JDBC_URL THREADS SECONDS");
      System.exit(2);
    }
    String url = args[0];
    int threads = Integer.parseInt(args[1]);
    long seconds = Long.parseLong(args[2]);
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    LongAdder done = new LongAdder();
    List<Thread> running = new ArrayList<>();
    List<Exception> failures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread thread =
          new Thread(
              () -> {
                try {
                  run(url, end, done);
                } catch (SQLException e) {
                  synchronized (failures) {
                    failures.add(e);
                  }
                }
              });
      thread.start();
      running.add(thread);
    }
    for (Thread thread : running) {
      thread.join();
    }
    System.out.printf(
        "%.0f tps, %d failed connections%n", done.sum() / (double) seconds, failures.size());
    for (Exception e : failures) {
      System.out.println(e);
    }
  }

  private static void run(String url, long end, LongAdder done) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement select =
            c.prepareStatement("select abalance from pgbench_accounts where aid = ?")) {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      while (System.nanoTime() < end) {
        select.setInt(1, 1 + random.nextInt(100_000));
        try (ResultSet rs = select.executeQuery()) {
          rs.next();
        }
        done.increment();
      }
    }
  }
}

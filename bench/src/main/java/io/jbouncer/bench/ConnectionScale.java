package io.jbouncer.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Holds many logged-in, idle client connections open against a pooler, for the connection-scale
 * measurement of {@code bench/pgbench-matrix.sh}.
 *
 * <pre>java -cp benchmarks.jar io.jbouncer.bench.ConnectionScale HOST PORT USER DATABASE COUNT
 * </pre>
 *
 * <p>Logs in COUNT clients (trust) one after the other, prints {@code held COUNT} and waits for a
 * line (or end of input) on stdin. Then it runs {@code select 1} on every 100th client, which
 * proves that the idle clients are still served, prints {@code checked N}, and closes them all.
 */
public final class ConnectionScale {
  private ConnectionScale() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 5) {
      System.err.println("usage: ConnectionScale HOST PORT USER DATABASE COUNT");
      System.exit(2);
    }
    InetSocketAddress address = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
    String user = args[2];
    String database = args[3];
    int count = Integer.parseInt(args[4]);

    List<PgClient> clients = new ArrayList<>(count);
    long started = System.nanoTime();
    try {
      for (int i = 0; i < count; i++) {
        clients.add(PgClient.connect(address, user, database));
      }
      System.out.printf(
          "held %d (logged in in %.1f s)%n", count, (System.nanoTime() - started) / 1e9);
      System.out.flush();

      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();

      byte[] select = PgClient.queryFrame("select 1");
      int checked = 0;
      for (int i = 0; i < clients.size(); i += 100) {
        if (clients.get(i).query(select) != 1) {
          throw new IOException("client " + i + ": select 1 did not return one row");
        }
        checked++;
      }
      System.out.println("checked " + checked);
    } catch (IOException e) {
      System.out.println("failed after " + clients.size() + " clients: " + e.getMessage());
      System.exit(1);
    } finally {
      clients.forEach(PgClient::close);
    }
  }
}

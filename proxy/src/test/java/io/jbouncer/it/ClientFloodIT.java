package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.testing.Await;
import io.jbouncer.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thousand clients at once against {@code max_client_conn = 500}: every one either logs in or
 * gets PgBouncer's refusal, never more than 500 are admitted, the admitted ones all run queries
 * through a pool of 5, and the pooler takes new clients once they are gone.
 */
class ClientFloodIT {
  private static final int MAX_CLIENT_CONN = 500;
  private static final String REFUSAL = "no more connections allowed (max_client_conn)";

  @TempDir Path dir;

  /** Backends of the flood's own database entry (its servers say application_name=flood). */
  private static int floodBackends() throws Exception {
    try (Connection admin = TestPostgres.get().superuser();
        Statement st = admin.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select count(*) from pg_stat_activity where application_name = 'flood'")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * Opens {@code count} connections before reading any reply, so they are all in flight at once;
   * returns the logged-in ones and counts each outcome in {@code outcomes}.
   */
  private static List<RawClient> flood(int port, int count, Map<String, Integer> outcomes)
      throws Exception {
    List<RawClient> all = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      RawClient client = new RawClient(port);
      client.send(RawClient.startup("user", "md5_user", "database", "app"));
      all.add(client);
    }
    List<RawClient> admitted = new ArrayList<>();
    for (RawClient client : all) {
      String outcome = client.finishMd5Login("md5_user", "md5_pass");
      outcomes.merge(outcome, 1, Integer::sum);
      if (outcome.equals("logged in")) {
        admitted.add(client);
      } else {
        client.close();
      }
    }
    return admitted;
  }

  @Test
  void thousandSimultaneousClientsAgainstMaxClientConn500() throws Exception {
    String databases = "app = host=127.0.0.1 port=${PGPORT} dbname=app application_name=flood\n";
    String settings = "max_client_conn = " + MAX_CLIENT_CONN + "\ndefault_pool_size = 5\n";
    List<RawClient> admitted = new ArrayList<>();
    try (ProxyFixture proxy = ProxyFixture.start(dir, databases, settings, ProxyFixture.USERLIST)) {
      Map<String, Integer> outcomes = new HashMap<>();
      admitted.addAll(flood(proxy.port(), 1000, outcomes));
      assertThat(outcomes.keySet())
          .as("logged in or refused, nothing else")
          .isSubsetOf("logged in", "FATAL 08P01 " + REFUSAL);
      assertThat(admitted.size()).isBetween(1, MAX_CLIENT_CONN);

      // fill up to the limit: now every newcomer is admitted, and one more is refused
      Map<String, Integer> topUp = new HashMap<>();
      int missing = MAX_CLIENT_CONN - admitted.size(); // 0 when the refused left no slot behind
      admitted.addAll(flood(proxy.port(), missing, topUp));
      assertThat(topUp.keySet()).isSubsetOf("logged in");
      assertThat(topUp.getOrDefault("logged in", 0)).isEqualTo(missing);
      Map<String, Integer> oneMore = new HashMap<>();
      assertThat(flood(proxy.port(), 1, oneMore)).isEmpty();
      assertThat(oneMore).containsOnlyKeys("FATAL 08P01 " + REFUSAL);

      // all 500 send a query at once; 5 servers answer them in turn
      for (RawClient client : admitted) {
        client.send(RawClient.typed('Q', RawClient.cstring("select 1")));
      }
      for (RawClient client : admitted) {
        RawClient.Message m;
        while ((m = client.read()).type() != 'Z') {
          assertThat(m.type()).isNotEqualTo('E');
        }
      }
      assertThat(floodBackends()).isBetween(1, 5);

      for (RawClient client : admitted) {
        client.close();
      }
      admitted.clear();
      Await.until(
          "the flood's clients are gone", () -> proxy.bouncer().pooler().clientCount() == 0);
      try (Connection late = proxy.connect("md5_user", "md5_pass", "app");
          Statement st = late.createStatement()) {
        assertThat(TransactionPoolingIT.scalar(st, "select 'room again'")).isEqualTo("room again");
      }
    } finally {
      for (RawClient client : admitted) {
        client.close();
      }
    }
  }
}

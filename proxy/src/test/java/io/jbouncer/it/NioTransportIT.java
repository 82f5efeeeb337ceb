package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NIO transport, which machines without native epoll use, relays like epoll does. */
class NioTransportIT {
  @TempDir Path dir;

  @Test
  void relaysOverNio() throws Exception {
    System.setProperty("jbouncer.transport", "nio");
    try (ProxyFixture proxy = ProxyFixture.start(dir, "")) {
      assertThat(proxy.bouncer().transportName()).isEqualTo("nio");
      try (Connection c =
              proxy.connect("scram_user", "scram_pass", "app", "preferQueryMode", "simple");
          Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery("select count(*), sum(g) from generate_series(1, 50000) g")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong(1)).isEqualTo(50000);
        assertThat(rs.getLong(2)).isEqualTo(50000L * 50001 / 2);
      }
    } finally {
      System.clearProperty("jbouncer.transport");
    }
  }
}

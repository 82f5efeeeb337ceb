package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code so_reuseport = 1}: one listener per event loop on one port, which another process of the
 * same user may share (what PgBouncer's setting is for); without it the port is jbouncer's alone.
 */
class ReusePortIT {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"epoll", "nio"})
  void listenersOnEveryLoopShareThePortWithAnotherProcess(String transport) throws Exception {
    if (transport.equals("nio")) {
      System.setProperty("jbouncer.transport", "nio");
    }
    try (ProxyFixture proxy = ProxyFixture.start(dir, "so_reuseport = 1\nworker_threads = 2\n")) {
      int port = proxy.bouncer().localAddress().getPort();
      List<Connection> connections = new ArrayList<>();
      try {
        for (int i = 0; i < 12; i++) {
          connections.add(
              proxy.connect("scram_user", "scram_pass", "app", "preferQueryMode", "simple"));
        }
        for (Connection c : connections) {
          try (Statement st = c.createStatement();
              ResultSet rs = st.executeQuery("select 6 * 7")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(42);
          }
        }
      } finally {
        for (Connection c : connections) {
          c.close();
        }
      }
      try (ServerSocketChannel peer = ServerSocketChannel.open()) {
        peer.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        peer.bind(new InetSocketAddress("127.0.0.1", port)); // would throw without SO_REUSEPORT
        assertThat(((InetSocketAddress) peer.getLocalAddress()).getPort()).isEqualTo(port);
      }
    } finally {
      System.clearProperty("jbouncer.transport");
    }
  }

  @Test
  void withoutItThePortIsNotShared() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "worker_threads = 2\n")) {
      int port = proxy.bouncer().localAddress().getPort();
      try (ServerSocketChannel peer = ServerSocketChannel.open()) {
        peer.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        assertThatThrownBy(() -> peer.bind(new InetSocketAddress("127.0.0.1", port)))
            .isInstanceOf(IOException.class);
      }
    }
  }
}

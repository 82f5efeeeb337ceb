package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad input gets a clear FATAL with PgBouncer's SQLSTATE and wording, the connection closes,
 * and a well-behaved client connected all along keeps working.
 */
class BadInputIT {
  @TempDir static Path dir;
  static ProxyFixture proxy;
  static Connection bystander;

  @BeforeAll
  static void start() throws Exception {
    proxy = ProxyFixture.start(dir, "max_client_conn = 6\nclient_login_timeout = 1\n");
    bystander = proxy.connect();
  }

  @AfterEach
  void bystanderStillWorks() throws Exception {
    assertThat(scalar(bystander.createStatement(), "select 'fine'")).isEqualTo("fine");
  }

  @AfterAll
  static void stop() throws Exception {
    bystander.close();
    proxy.close();
  }

  @Test
  void unsupportedStartupParameter() throws Exception {
    assertFatal(
        RawClient.startup("user", "scram_user", "database", "app", "search_path", "evil"),
        "08P01",
        "unsupported startup parameter: search_path");
  }

  @Test
  void unsupportedOptionInOptions() throws Exception {
    assertFatal(
        RawClient.startup("user", "scram_user", "database", "app", "options", "-c work_mem=1GB"),
        "08P01",
        "unsupported startup parameter in options: work_mem");
  }

  @Test
  void unknownDatabase() throws Exception {
    assertFatal(
        RawClient.startup("user", "scram_user", "database", "nope"),
        "08P01",
        "no such database: nope");
  }

  @Test
  void missingUser() throws Exception {
    assertFatal(RawClient.startup("database", "app"), "08P01", "no username supplied");
  }

  @Test
  void oldProtocolVersion() throws Exception {
    assertFatal(
        RawClient.startup(0x20000, "user", "scram_user"),
        "0A000",
        "unsupported frontend protocol 2.0: server supports 3.0 to 3.0");
  }

  @Test
  void oversizeStartupPacket() throws Exception {
    byte[] packet = new byte[8];
    packet[1] = 0x01; // length 65536
    packet[5] = 0x03; // version 3.0
    assertFatal(packet, "08P01", "startup packet length: 65536 (expected: 8..10000)");
  }

  @Test
  void startupPacketWithoutTerminator() throws Exception {
    byte[] bad = {0, 0, 0, 12, 0, 3, 0, 0, 'u', 's', 'e', 'r'};
    try (RawClient raw = new RawClient(proxy.port())) {
      raw.send(bad);
      Map<Character, String> error = raw.readError();
      assertThat(error.get('C')).isEqualTo("08P01");
      assertThat(error.get('M')).startsWith("string without terminating NUL");
      assertThat(raw.closedByServer()).isTrue();
    }
  }

  @Test
  void messageOtherThanPasswordDuringLogin() throws Exception {
    try (RawClient raw = new RawClient(proxy.port())) {
      raw.send(RawClient.startup("user", "scram_user", "database", "app"));
      RawClient.Message request = raw.read();
      assertThat(request.type()).isEqualTo('R'); // AuthenticationMD5Password
      raw.send(RawClient.typed('Q', RawClient.cstring("select 1")));
      Map<Character, String> error = raw.readError();
      assertThat(error)
          .containsEntry('C', "08P01")
          .containsEntry('M', "expected password response, got message type 81");
      assertThat(raw.closedByServer()).isTrue();
    }
  }

  @Test
  void frameWithImpossibleLengthAfterLogin() throws Exception {
    try (RawClient raw = loggedIn()) {
      raw.send(new byte[] {'Q', 0, 0, 0, 2});
      Map<Character, String> error = raw.readError();
      assertThat(error).containsEntry('S', "FATAL").containsEntry('C', "08P01");
      assertThat(error.get('M')).isEqualTo("message 'Q' length: 2 (expected: 4..2147483647)");
      assertThat(raw.closedByServer()).isTrue();
    }
  }

  @Test
  void clientThatNeverFinishesLoginIsDroppedAfterClientLoginTimeout() throws Exception {
    try (RawClient raw = new RawClient(proxy.port())) {
      raw.send(RawClient.startup("user", "scram_user", "database", "app"));
      assertThat(raw.read().type()).isEqualTo('R');
      Map<Character, String> error = raw.readError(); // nothing sent: timeout after 1 s
      assertThat(error).containsEntry('M', "client_login_timeout");
      assertThat(raw.closedByServer()).isTrue();
    }
  }

  @Test
  void sslAndGssRequestsAreDeclinedAndLoginContinues() throws Exception {
    try (RawClient raw = new RawClient(proxy.port())) {
      raw.send(new byte[] {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x30}); // GSSENCRequest
      assertThat(raw.readByte()).isEqualTo('N');
      raw.send(new byte[] {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f}); // SSLRequest
      assertThat(raw.readByte()).isEqualTo('N');
      raw.send(RawClient.startup("user", "scram_user", "database", "app"));
      assertThat(raw.read().type()).isEqualTo('R');
    }
  }

  @Test
  void newerMinorVersionAndProtocolOptionsGetNegotiateProtocolVersion() throws Exception {
    try (RawClient raw = new RawClient(proxy.port())) {
      raw.send(
          RawClient.startup(196610, "user", "scram_user", "database", "app", "_pq_.wishful", "on"));
      RawClient.Message negotiate = raw.read();
      assertThat(negotiate.type()).isEqualTo('v');
      java.nio.ByteBuffer body = java.nio.ByteBuffer.wrap(negotiate.body());
      assertThat(body.getInt()).as("newest minor version supported").isZero();
      assertThat(body.getInt()).as("unsupported options").isEqualTo(1);
      assertThat(
              new String(
                  negotiate.body(),
                  8,
                  negotiate.body().length - 9,
                  java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo("_pq_.wishful");
      assertThat(raw.read().type()).as("login goes on").isEqualTo('R');
    }
  }

  @Test
  void maxClientConnRefusesTheClientOverTheLimit() throws Exception {
    awaitClientCount(1); // raw clients of earlier tests are gone
    List<Connection> held = new ArrayList<>();
    try {
      // the bystander is one of the 6
      for (int i = 0; i < 5; i++) {
        held.add(proxy.connect());
      }
      assertThatThrownBy(() -> proxy.connect())
          .isInstanceOf(SQLException.class)
          .satisfies(
              e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("08P01");
                assertThat(e.getMessage())
                    .contains("no more connections allowed (max_client_conn)");
              });
      for (Connection c : held) {
        assertThat(scalar(c.createStatement(), "select 1")).isEqualTo("1");
      }
    } finally {
      for (Connection c : held) {
        c.close();
      }
    }
    awaitClientCount(1);
    try (Connection again = proxy.connect()) {
      assertThat(scalar(again.createStatement(), "select 'room again'")).isEqualTo("room again");
    }
  }

  private static void awaitClientCount(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (proxy.bouncer().pooler().clientCount() != expected && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(proxy.bouncer().pooler().clientCount()).isEqualTo(expected);
  }

  private static RawClient loggedIn() throws Exception {
    return RawClient.loggedIn(proxy.port(), "trust_user", "trust_pass");
  }

  private static void assertFatal(byte[] startup, String sqlState, String message)
      throws Exception {
    try (RawClient raw = new RawClient(proxy.port())) {
      raw.send(startup);
      Map<Character, String> error = raw.readError();
      assertThat(error)
          .containsEntry('S', "FATAL")
          .containsEntry('C', sqlState)
          .containsEntry('M', message);
      assertThat(raw.closedByServer()).isTrue();
    }
  }
}

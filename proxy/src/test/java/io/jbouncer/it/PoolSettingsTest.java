package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pool sizing and modes against a {@link ScriptedBackend}, where every server the proxy opens is
 * visible: the precedence of {@code [users]} over {@code [databases]} over {@code [pgbouncer]},
 * pool size 0 (unlimited), {@code server_reset_query_always}, and {@code max_packet_size}.
 */
class PoolSettingsTest extends ScriptedProxyTest {

  private static List<RawClient> clients(int n, ThrowingSupplier<RawClient> login)
      throws Exception {
    List<RawClient> clients = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      clients.add(login.get());
    }
    return clients;
  }

  interface ThrowingSupplier<T> {
    T get() throws Exception;
  }

  @Test
  void poolSizeZeroIsUnlimited() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "default_pool_size = 0\n");
    List<RawClient> clients = clients(4, this::client);
    try {
      List<ScriptedBackend.Session> servers = new ArrayList<>();
      for (RawClient c : clients) {
        ScriptedBackend.Session s = roundTrip(c, null, 'T'); // each keeps its server
        assertThat(servers).doesNotContain(s);
        servers.add(s);
      }
      assertThat(servers).hasSize(4);
    } finally {
      for (RawClient c : clients) {
        c.close();
      }
    }
  }

  @Test
  void databasePoolSizeAndModeOverrideTheDefaultsAndUsersOverrideTheDatabase() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir,
            backend.port(),
            "default_pool_size = 5\n"
                + "[databases]\n"
                + "capped = host=127.0.0.1 port="
                + backend.port()
                + " dbname=app pool_size=1 pool_mode=session\n"
                + "[users]\n"
                + "md5_user = pool_size=2 pool_mode=transaction\n");
    // trust_user on "capped": the database's pool_size=1 and session mode
    try (RawClient first = RawClient.loggedIn(proxy.port(), "trust_user", "trust_pass", "capped");
        RawClient second = RawClient.loggedIn(proxy.port(), "trust_user", "trust_pass", "capped")) {
      ScriptedBackend.Session server = roundTrip(first, null, 'I');
      second.send(query("waits"));
      assertThat(backend.noNewSessionWithin(500)).as("pool_size=1 from [databases]").isTrue();
      assertThat(server.silentFor(300)).as("session mode: first keeps its server").isTrue();
    }
    // md5_user on "capped": [users] wins, pool_size=2 and transaction mode
    try (RawClient first = RawClient.loggedIn(proxy.port(), "md5_user", "md5_pass", "capped");
        RawClient second = RawClient.loggedIn(proxy.port(), "md5_user", "md5_pass", "capped");
        RawClient third = RawClient.loggedIn(proxy.port(), "md5_user", "md5_pass", "capped")) {
      ScriptedBackend.Session a = roundTrip(first, null, 'T');
      ScriptedBackend.Session b = roundTrip(second, null, 'T');
      assertThat(b).isNotSameAs(a);
      third.send(query("third"));
      assertThat(backend.noNewSessionWithin(500)).as("pool_size=2 from [users]").isTrue();
      roundTrip(first, a, 'I'); // transaction mode: the commit frees a for third
      assertThat(a.readQuery()).isEqualTo("third");
    }
  }

  @Test
  void serverResetQueryAlwaysResetsInTransactionModeToo() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "server_reset_query_always = 1\nserver_reset_query = RESET ALL\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = roundTrip(client, null, 'I');
      assertThat(server.readQuery()).isEqualTo("RESET ALL");
      server.send(ScriptedBackend.commandComplete("RESET"), ScriptedBackend.readyForQuery('I'));
      roundTrip(client, server, 'I');
    }
  }

  @Test
  void withoutServerResetQueryAlwaysTransactionModeDoesNotReset() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "server_reset_query = RESET ALL\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = roundTrip(client, null, 'I');
      roundTrip(client, server, 'I'); // the next query is the client's, not a reset
    }
  }

  @Test
  void frameLongerThanMaxPacketSizeIsRefused() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "max_packet_size = 1000\n");
    try (RawClient client = client();
        RawClient bystander = client()) {
      client.send(query("x".repeat(2000)));
      Map<Character, String> error = client.readError();
      assertThat(error)
          .containsEntry('S', "FATAL")
          .containsEntry('C', "08P01")
          .containsEntry('M', "message 'Q' length: 2005 (expected: 4..1000)");
      assertThat(client.closedByServer()).isTrue();
      roundTrip(bystander, null, 'I');
    }
  }
}

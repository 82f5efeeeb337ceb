package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * PgBouncer's timeouts, each with a sub-second value against a {@link ScriptedBackend}: the client
 * gets PgBouncer's reason as a FATAL and the server is closed rather than pooled dirty. The janitor
 * runs every 333 ms, so each case allows a few seconds.
 */
class TimeoutsTest extends ScriptedProxyTest {

  private static void assertFatal(RawClient client, String reason) throws Exception {
    Map<Character, String> error = client.readError();
    assertThat(error).containsEntry('S', "FATAL").containsEntry('M', reason);
    assertThat(client.closedByServer()).isTrue();
  }

  @Test
  void queryWaitTimeoutDropsAClientQueuedTooLong() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "query_wait_timeout = 0.5\n");
    try (RawClient holder = client();
        RawClient queued = client()) {
      ScriptedBackend.Session server = roundTrip(holder, null, 'T'); // holds the only server
      queued.send(query("never runs"));
      assertFatal(queued, "query_wait_timeout");
      assertThat(server.silentFor(200)).as("the queued query never reached a server").isTrue();
      roundTrip(holder, server, 'I');
    }
  }

  @Test
  void queryWaitTimeoutFromTheDatabaseEntryAndFromTheUsersSection() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir,
            backend.port(),
            "query_wait_timeout = 120\n"
                + "[databases]\n"
                + "impatient = host=127.0.0.1 port="
                + backend.port()
                + " dbname=app query_wait_timeout=0.5 pool_size=1\n"
                + "[users]\n"
                + "md5_user = query_wait_timeout=0.5\n");
    // [databases] query_wait_timeout for trust_user on "impatient"
    try (RawClient holder =
            RawClient.loggedIn(proxy.port(), "trust_user", "trust_pass", "impatient");
        RawClient queued =
            RawClient.loggedIn(proxy.port(), "trust_user", "trust_pass", "impatient")) {
      ScriptedBackend.Session server = roundTrip(holder, null, 'T');
      queued.send(query("waits too long"));
      assertFatal(queued, "query_wait_timeout");
      roundTrip(holder, server, 'I');
    }
    // [users] query_wait_timeout for md5_user on "app" (the global 120 s elsewhere)
    try (RawClient holder = RawClient.loggedIn(proxy.port(), "md5_user", "md5_pass");
        RawClient queued = RawClient.loggedIn(proxy.port(), "md5_user", "md5_pass")) {
      ScriptedBackend.Session server = roundTrip(holder, null, 'T');
      queued.send(query("waits too long"));
      assertFatal(queued, "query_wait_timeout");
      roundTrip(holder, server, 'I');
    }
  }

  @Test
  void queryWaitNotifyTellsAQueuedClientOnce() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "query_wait_notify = 0.4\n");
    try (RawClient holder = client();
        RawClient queued = client()) {
      ScriptedBackend.Session server = roundTrip(holder, null, 'T');
      queued.send(query("patient"));
      RawClient.Message notice = queued.read();
      assertThat(notice.type()).isEqualTo('N');
      assertThat(notice.fields())
          .containsEntry(
              'M', "No server connection available in postgres backend, client being queued");
      roundTrip(holder, server, 'I'); // the holder commits: the queued query runs now
      assertThat(server.readQuery()).isEqualTo("patient");
      server.sendResult("served", 1, 'I');
      RawClient.Message next = queued.read();
      assertThat(next.type()).as("one notice only, then the reply").isEqualTo('T');
    }
  }

  @Test
  void reservePoolOpensOneMoreServerForAClientWaitingPastTheTimeout() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "reserve_pool_size = 1\nreserve_pool_timeout = 0.5\n");
    try (RawClient holder = client();
        RawClient queued = client();
        RawClient third = client()) {
      ScriptedBackend.Session first = roundTrip(holder, null, 'T'); // pool_size 1 is taken
      queued.send(query("from the reserve"));
      long start = System.nanoTime();
      ScriptedBackend.Session reserve = backend.nextSession();
      assertThat(System.nanoTime() - start)
          .as("not before reserve_pool_timeout")
          .isGreaterThan(300_000_000L);
      assertThat(reserve.readQuery()).isEqualTo("from the reserve");
      reserve.sendResult("r", 1, 'T'); // and keep it busy
      while (queued.read().type() != 'Z') {
        // the reply
      }
      third.send(query("no more"));
      assertThat(backend.noNewSessionWithin(1200)).as("reserve_pool_size is 1").isTrue();
      roundTrip(holder, first, 'I'); // frees a server: the third client gets it
      assertThat(first.readQuery()).isEqualTo("no more");
    }
  }

  @Test
  void clientIdleTimeoutClosesAnIdleClient() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "client_idle_timeout = 0.5\n");
    try (RawClient idle = client()) {
      assertFatal(idle, "client_idle_timeout");
    }
  }

  @Test
  void clientIdleTimeoutFromTheUsersSectionAppliesToThatUserOnly() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "\n[users]\ntrust_user = client_idle_timeout=0.5\n");
    try (RawClient limited = client();
        RawClient other = RawClient.loggedIn(proxy.port(), "md5_user", "md5_pass")) {
      assertFatal(limited, "client_idle_timeout");
      other.send(query("still here"));
      ScriptedBackend.Session server = backend.nextSession();
      while (!"md5_user".equals(server.startup.get("user"))) {
        server = backend.nextSession(); // each pool logged in once; trust_user's came first
      }
      assertThat(server.readQuery()).isEqualTo("still here");
    }
  }

  @Test
  void idleTransactionTimeoutClosesClientAndServer() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "idle_transaction_timeout = 0.5\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = roundTrip(client, null, 'T');
      assertFatal(client, "idle transaction timeout");
      assertThat(server.closedByProxy()).as("a server left in a transaction is closed").isTrue();
    }
  }

  @Test
  void queryTimeoutClosesTheServerRunningTheQuery() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "query_timeout = 0.5\n");
    try (RawClient client = client()) {
      client.send(query("select pg_sleep(3600)"));
      ScriptedBackend.Session server = backend.nextSession();
      server.readQuery(); // and never answer
      assertFatal(client, "query timeout");
      assertThat(server.closedByProxy()).isTrue();
    }
  }

  @Test
  void queryTimeoutAlsoEndsTheWaitOfAQueuedClient() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "query_timeout = 0.5\n");
    try (RawClient holder = client();
        RawClient queued = client()) {
      ScriptedBackend.Session server = roundTrip(holder, null, 'T'); // idle in a transaction
      queued.send(query("never runs"));
      assertFatal(queued, "query_timeout"); // PgBouncer's word for the queued client
      roundTrip(holder, server, 'I'); // the holder ran no query that long: untouched
    }
  }

  @Test
  void transactionTimeoutEndsABusyTransaction() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "transaction_timeout = 0.7\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = roundTrip(client, null, 'T');
      long deadline = System.nanoTime() + 5_000_000_000L;
      boolean ended = false;
      while (!ended && System.nanoTime() < deadline) {
        Thread.sleep(100); // never idle long, but the transaction as a whole runs too long
        client.send(query("more"));
        RawClient.Message m = client.read();
        if (m.type() == 'E') {
          assertThat(m.fields()).containsEntry('M', "transaction timeout");
          ended = true;
        } else {
          server.readQuery();
          server.sendResult("ok", 1, 'T');
          while (m.type() != 'Z') {
            m = client.read();
          }
        }
      }
      assertThat(ended).isTrue();
    }
  }

  @Test
  void serverIdleTimeoutClosesIdleServersButKeepsMinPoolSize() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "server_idle_timeout = 0.5\ndefault_pool_size = 2\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = roundTrip(client, null, 'I');
      assertThat(server.closedByProxy()).as("idle longer than server_idle_timeout").isTrue();
    }
  }

  @Test
  void minPoolSizeKeepsIdleServersOpen() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "server_idle_timeout = 0.3\nmin_pool_size = 1\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = roundTrip(client, null, 'I');
      assertThat(server.silentFor(1500)).as("min_pool_size keeps it").isTrue();
      roundTrip(client, server, 'I');
    }
  }

  @Test
  void minPoolSizeOpensServersUpToTheMinimumButNeverPastPoolSize() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "min_pool_size = 5\ndefault_pool_size = 3\n");
    try (RawClient client = client()) {
      roundTrip(client, null, 'I');
      backend.nextSession(); // the janitor fills up, one login at a time
      backend.nextSession();
      assertThat(backend.noNewSessionWithin(1500))
          .as("min_pool_size capped at pool_size 3")
          .isTrue();
    }
  }

  @Test
  void serverLifetimeClosesArePacedByLifetimeOverPoolSize() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "server_lifetime = 1.2\ndefault_pool_size = 2\n");
    try (RawClient a = client();
        RawClient b = client()) {
      // two servers opened together: a keeps one in a transaction while b gets the other
      ScriptedBackend.Session first = roundTrip(a, null, 'T');
      ScriptedBackend.Session second = roundTrip(b, null, 'I');
      roundTrip(a, first, 'I');
      java.util.concurrent.CompletableFuture<Long> firstClosed = closedAt(first);
      java.util.concurrent.CompletableFuture<Long> secondClosed = closedAt(second);
      long gap =
          Math.abs(
              firstClosed.get(10, java.util.concurrent.TimeUnit.SECONDS)
                  - secondClosed.get(10, java.util.concurrent.TimeUnit.SECONDS));
      assertThat(gap)
          .as("one close waits lifetime / pool_size (0.6 s) after the other")
          .isGreaterThan(400_000_000L);
    }
  }

  @Test
  void serverLifetimeRetiresOldServers() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "server_lifetime = 0.5\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session first = roundTrip(client, null, 'I');
      assertThat(first.closedByProxy()).as("past server_lifetime").isTrue();
      ScriptedBackend.Session second = roundTrip(client, null, 'I');
      assertThat(second.pid).isNotEqualTo(first.pid);
    }
  }

  /** When (System.nanoTime()) the proxy closed {@code server}, watched from another thread. */
  private static java.util.concurrent.CompletableFuture<Long> closedAt(
      ScriptedBackend.Session server) {
    return java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try {
            assertThat(server.closedByProxy()).isTrue();
            return System.nanoTime();
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}

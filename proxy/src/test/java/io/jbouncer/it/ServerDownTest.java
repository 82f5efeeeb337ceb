package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.pool.Pool;
import java.net.ServerSocket;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL unreachable or refusing logins, as PgBouncer handles it: a refused or lost connect
 * leaves waiting clients queued while the pool retries every {@code server_login_retry}; new
 * requests meanwhile fail fast with the cached error; a login the server itself refuses fails the
 * waiting clients with the server's error, except "cannot connect now" (57P03), which is waited
 * out.
 */
class ServerDownTest extends ScriptedProxyTest {
  private static final String CACHED_CONNECT_FAILURE =
      "server login has been failing, cached error: connect failed (server_login_retry)";

  /** A loopback port nothing listens on (for now). */
  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private CompletableFuture<RawClient> loginAsync() {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return client();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /** Waits until the only pool satisfies {@code condition}. */
  private Pool.Counts awaitPool(Predicate<Pool.Counts> condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20); // DNS may time out
    while (System.nanoTime() < deadline) {
      for (Pool pool : proxy.bouncer().pooler().pools()) {
        Pool.Counts counts = pool.counts();
        if (condition.test(counts)) {
          return counts;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the pool never reached the expected state");
  }

  private static void assertFatal(Map<Character, String> error, String message) {
    assertThat(error)
        .containsEntry('S', "FATAL")
        .containsEntry('C', "08P01")
        .containsEntry('M', message);
  }

  @Test
  void clientsQueuedWhileConnectsAreRefusedAreServedOnceTheServerIsBack() throws Exception {
    int port = closedPort();
    proxy = ProxyFixture.startScripted(dir, port, "server_login_retry = 30\n");
    CompletableFuture<RawClient> queued = loginAsync();
    Pool.Counts failing = awaitPool(c -> c.failingLogin() != null);
    assertThat(failing.failingLogin()).isEqualTo(CACHED_CONNECT_FAILURE);
    assertThat(failing.waiting()).as("the first client is still queued").isEqualTo(1);
    assertThat(queued).isNotDone();

    backend.close();
    backend = new ScriptedBackend(port); // PostgreSQL is back
    try (RawClient first = queued.get(10, TimeUnit.SECONDS)) {
      roundTrip(first, null, 'I'); // within seconds, not server_login_retry's 30
    }
  }

  @Test
  void loggedInClientsWaitForTheRetryUntilQueryWaitTimeout() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "server_login_retry = 30\nquery_wait_timeout = 1.5\n");
    try (RawClient waiter = client()) {
      ScriptedBackend.Session server = roundTrip(waiter, null, 'I');
      backend.close(); // PostgreSQL goes away: its listener first, then the connection
      server.close();
      awaitPool(c -> c.servers() == 0);

      waiter.send(query("while down"));
      awaitPool(c -> c.failingLogin() != null); // queued, and a login attempt failed
      long waitStart = System.nanoTime();
      assertFatal(waiter.readError(), "query_wait_timeout");
      assertThat(System.nanoTime() - waitStart)
          .as("queued until query_wait_timeout, not failed at once")
          .isGreaterThan(TimeUnit.MILLISECONDS.toNanos(500));
    }
  }

  @Test
  void cannotConnectNowIsWaitedOutWithRetriesSoonerThanServerLoginRetry() throws Exception {
    for (int i = 0; i < 3; i++) {
      backend.refuseNextLogin(
          ScriptedBackend.error("FATAL", "57P03", "the database system is starting up"));
    }
    proxy = ProxyFixture.startScripted(dir, backend.port(), "server_login_retry = 30\n");
    try (RawClient client = loginAsync().get(10, TimeUnit.SECONDS)) {
      ScriptedBackend.Session server = roundTrip(client, null, 'I');
      assertThat(server.startup).containsEntry("user", "trust_user");
    }
  }

  @Test
  void refusedLoginFailsNewRequestsFastUntilServerLoginRetryHasPassed() throws Exception {
    backend.refuseNextLogin(
        ScriptedBackend.error("FATAL", "28P01", "password authentication failed for user"));
    proxy = ProxyFixture.startScripted(dir, backend.port(), "server_login_retry = 1.5\n");
    try (RawClient first = new RawClient(proxy.port())) {
      first.startLogin("trust_user", "trust_pass");
      assertThat(first.readError()).containsEntry('C', "28P01");
    }
    long refusedAt = System.nanoTime();
    try (RawClient late = new RawClient(proxy.port())) {
      late.startLogin("trust_user", "trust_pass");
      assertFatal(
          late.readError(),
          "server login has been failing, cached error: password authentication failed for user"
              + " (server_login_retry)");
    }
    assertThat(backend.noNewSessionWithin(300)).as("no login attempt meanwhile").isTrue();
    awaitPool(c -> c.failingLogin() == null);
    assertThat(System.nanoTime() - refusedAt)
        .as("held back for server_login_retry")
        .isGreaterThan(TimeUnit.MILLISECONDS.toNanos(1200));
    try (RawClient patient = client()) {
      roundTrip(patient, null, 'I');
    }
  }

  @Test
  void serverHostNamesAreResolvedThroughTheHostsFile() throws Exception {
    proxy = ProxyFixture.startScripted(dir, "localhost", backend.port(), "");
    try (RawClient client = client()) {
      roundTrip(client, null, 'I');
    }
  }

  @Test
  void unresolvableServerHostIsTheCachedErrorAndClientsStayQueued() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, "no-such-host.invalid", backend.port(), "server_login_retry = 30\n");
    CompletableFuture<RawClient> queued = loginAsync();
    Pool.Counts failing = awaitPool(c -> c.failingLogin() != null);
    assertThat(failing.failingLogin())
        .isEqualTo(
            "server login has been failing, cached error: server DNS lookup failed"
                + " (server_login_retry)");
    assertThat(failing.waiting()).isEqualTo(1);
    assertThat(queued).isNotDone();
  }

  @Test
  void clientWaitingForItsWelcomeWhileTheServerIsDownGetsClientLoginTimeout() throws Exception {
    proxy = ProxyFixture.startScripted(dir, closedPort(), "client_login_timeout = 0.7\n");
    try (RawClient client = new RawClient(proxy.port())) {
      client.startLogin("trust_user", "trust_pass");
      assertFatal(client.readError(), "client_login_timeout (server down)");
    }
  }
}

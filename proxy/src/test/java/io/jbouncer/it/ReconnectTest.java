package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.pool.Pool;
import org.junit.jupiter.api.Test;

/**
 * PgBouncer's {@code close_needed} after a RECONNECT ({@link Pool#reconnect()}; the admin console
 * and RELOAD use it): idle servers close at once, busy ones when released, sessions keep theirs
 * unless {@code server_fast_close}, and no client's transaction is cut.
 */
class ReconnectTest extends ScriptedProxyTest {

  private void reconnect() {
    proxy.bouncer().pooler().pools().forEach(Pool::reconnect);
  }

  @Test
  void idleServersCloseAtOnceAndBusyOnesWhenReleased() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "default_pool_size = 2\n");
    try (RawClient busy = client();
        RawClient other = client()) {
      ScriptedBackend.Session held = roundTrip(busy, null, 'T');
      ScriptedBackend.Session idle = roundTrip(other, null, 'I');
      reconnect();
      assertThat(idle.closedByProxy()).isTrue();
      assertThat(held.silentFor(500)).as("the open transaction goes on").isTrue();
      roundTrip(busy, held, 'I'); // commit: the server is released, and closed instead
      assertThat(held.closedByProxy()).isTrue();
      ScriptedBackend.Session fresh = roundTrip(busy, null, 'I');
      assertThat(fresh.pid).isNotIn(held.pid, idle.pid);
    }
  }

  @Test
  void sessionKeepsItsServerUntilTheClientLeavesThenItClosesWithoutReset() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "pool_mode = session\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = roundTrip(client, null, 'I');
      reconnect();
      assertThat(server.silentFor(700)).isTrue();
      roundTrip(client, server, 'I');
      client.send(RawClient.typed('X', new byte[0]));
      assertThat(server.closedByProxy()).as("closed, not reset with DISCARD ALL").isTrue();
    }
  }

  @Test
  void serverFastCloseEndsTheSessionOnceItsTransactionIsOver() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "pool_mode = session\nserver_fast_close = 1\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = roundTrip(client, null, 'T');
      reconnect();
      assertThat(server.silentFor(700)).as("not inside a transaction").isTrue();
      roundTrip(client, server, 'I');
      assertThat(client.readError())
          .containsEntry('S', "FATAL")
          .containsEntry('C', "08P01")
          .containsEntry('M', "database configuration changed");
      assertThat(server.closedByProxy()).isTrue();
    }
  }
}

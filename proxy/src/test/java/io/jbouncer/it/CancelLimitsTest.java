package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Cancel requests against a {@link ScriptedBackend}, which keeps each cancel connection open until
 * the test closes it: at most {@code pool_size} are sent at once, the rest wait in line for {@code
 * cancel_wait_timeout}, and a waiting cancel whose query ended meanwhile is never sent.
 */
class CancelLimitsTest extends ScriptedProxyTest {

  /** A client whose query "long" is running on the returned server, unanswered. */
  private ScriptedBackend.Session runLongQuery(RawClient client) throws Exception {
    client.send(query("long"));
    ScriptedBackend.Session server = backend.nextSession();
    assertThat(server.readQuery()).isEqualTo("long");
    return server;
  }

  private RawClient sendCancel(RawClient target) throws Exception {
    RawClient request = new RawClient(proxy.port());
    request.send(target.cancelRequest());
    return request;
  }

  @Test
  void cancelsBeyondPoolSizeWaitAndAreDroppedAfterCancelWaitTimeout() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "cancel_wait_timeout = 0.6\n");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = runLongQuery(client);
      try (RawClient first = sendCancel(client);
          ScriptedBackend.Cancel sent = backend.nextCancel(); // before the second is sent
          RawClient second = sendCancel(client)) {
        assertThat(sent.pid()).isEqualTo(server.pid);
        assertThat(backend.noCancelWithin(200)).as("pool_size 1: one cancel at a time").isTrue();

        long start = System.nanoTime();
        assertThat(second.closedByServer()).as("dropped: cancel_wait_timeout").isTrue();
        assertThat(System.nanoTime() - start).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(200));
        assertThat(backend.noCancelWithin(300)).as("the dropped cancel is never sent").isTrue();

        sent.close(); // PostgreSQL handled the first cancel: it closes its connection
        assertThat(first.closedByServer()).isTrue();
      }
      server.send(
          ScriptedBackend.error("ERROR", "57014", "canceling statement due to user request"));
      server.send(ScriptedBackend.readyForQuery('I'));
      assertThat(client.readError()).containsEntry('C', "57014");
      roundTrip(client, server, 'I');
    }
  }

  @Test
  void waitingCancelIsSentWhenASlotFrees() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = runLongQuery(client);
      try (RawClient first = sendCancel(client);
          ScriptedBackend.Cancel sent = backend.nextCancel(); // before the second is sent
          RawClient second = sendCancel(client)) {
        assertThat(backend.noCancelWithin(200)).isTrue();
        sent.close();
        assertThat(first.closedByServer()).isTrue();
        try (ScriptedBackend.Cancel next = backend.nextCancel()) {
          assertThat(next.pid()).isEqualTo(server.pid);
        }
        assertThat(second.closedByServer()).isTrue();
      }
    }
  }

  @Test
  void waitingCancelWhoseQueryEndedIsNeverSentAndTheServerIsReleased() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient client = client();
        RawClient next = client()) {
      ScriptedBackend.Session server = runLongQuery(client);
      try (RawClient first = sendCancel(client);
          ScriptedBackend.Cancel sent = backend.nextCancel(); // before the second is sent
          RawClient second = sendCancel(client)) {
        assertThat(backend.noCancelWithin(200)).isTrue();
        server.sendResult("finished anyway", 1, 'I');
        while (client.read().type() != 'Z') {
          // the reply: the query ended before PostgreSQL saw the cancel
        }
        next.send(query("next client")); // waits: the server is held while cancels are in flight
        assertThat(server.silentFor(200)).isTrue();

        sent.close();
        assertThat(first.closedByServer()).isTrue();
        assertThat(second.closedByServer()).isTrue();
        assertThat(backend.noCancelWithin(300)).as("its query had ended").isTrue();
        assertThat(server.readQuery()).isEqualTo("next client");
        server.sendResult("ok", 1, 'I');
        while (next.read().type() != 'Z') {
          // served on the same server, never cancelled
        }
      }
    }
  }
}

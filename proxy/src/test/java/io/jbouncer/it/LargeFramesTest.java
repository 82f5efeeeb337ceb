package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Frames larger than {@code pkt_buf} pass through in pieces as they arrive, as PgBouncer forwards
 * them, instead of being held whole: the peer gets the first bytes of a large row or query before
 * its last bytes were even sent, and the frame arrives intact and in order.
 */
class LargeFramesTest extends ScriptedProxyTest {
  private static final int BIG = 1 << 20;

  /** A one-column DataRow whose value is {@code size} bytes of 'v'. */
  private static byte[] bigRow(int size) {
    byte[] value = new byte[size];
    Arrays.fill(value, (byte) 'v');
    return ScriptedBackend.dataRow(new String(value, StandardCharsets.US_ASCII));
  }

  private static byte[] bigQuery(int size) {
    return query("select '" + "q".repeat(size) + "'");
  }

  @Test
  void largeRowReachesTheClientAsItArrives() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient client = client()) {
      client.send(query("big row"));
      ScriptedBackend.Session server = backend.nextSession();
      server.readQuery();
      byte[] row = bigRow(BIG);
      int firstPart = 100_000;
      server.send(ScriptedBackend.rowDescription("v"), Arrays.copyOfRange(row, 0, firstPart));
      assertThat(client.read().type()).isEqualTo('T');
      byte[] head = client.readBytes(firstPart); // arrives while the row is still incomplete
      assertThat(head).isEqualTo(Arrays.copyOfRange(row, 0, firstPart));

      server.send(
          Arrays.copyOfRange(row, firstPart, row.length),
          ScriptedBackend.commandComplete("SELECT 1"),
          ScriptedBackend.readyForQuery('I'));
      assertThat(client.readBytes(row.length - firstPart))
          .isEqualTo(Arrays.copyOfRange(row, firstPart, row.length));
      assertThat(client.read().type()).isEqualTo('C');
      assertThat(client.read().type()).isEqualTo('Z');
      roundTrip(client, server, 'I'); // the server went back to the pool clean
    }
  }

  @Test
  void largeQueryReachesTheServerAsItArrives() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient client = client()) {
      ScriptedBackend.Session server = roundTrip(client, null, 'I');
      byte[] big = bigQuery(BIG);
      int firstPart = 100_000;
      client.send(Arrays.copyOfRange(big, 0, firstPart));
      assertThat(server.readBytes(firstPart)).isEqualTo(Arrays.copyOfRange(big, 0, firstPart));
      client.send(Arrays.copyOfRange(big, firstPart, big.length));
      assertThat(server.readBytes(big.length - firstPart))
          .isEqualTo(Arrays.copyOfRange(big, firstPart, big.length));
      server.sendResult("ok", 1, 'I');
      while (client.read().type() != 'Z') {
        // the reply
      }
    }
  }

  @Test
  void largeQueryOfAQueuedClientWaitsWholeAndGoesOutInOrder() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient holder = client();
        RawClient queued = client()) {
      ScriptedBackend.Session server = roundTrip(holder, null, 'T');
      byte[] big = bigQuery(BIG);
      queued.send(Arrays.copyOfRange(big, 0, 300_000)); // pieces arrive while it waits in line
      queued.send(Arrays.copyOfRange(big, 300_000, big.length));
      assertThat(server.silentFor(300)).isTrue();
      roundTrip(holder, server, 'I'); // the holder commits: the queued client gets the server
      ScriptedBackend.Session same = server;
      RawClient.Message forwarded = same.read();
      ByteArrayOutputStream whole = new ByteArrayOutputStream();
      whole.write(forwarded.type());
      whole.writeBytes(new byte[] {0, 0, 0, 0}); // length, compared below
      whole.writeBytes(forwarded.body());
      byte[] got = whole.toByteArray();
      assertThat(got.length).isEqualTo(big.length);
      assertThat(Arrays.copyOfRange(got, 5, got.length))
          .isEqualTo(Arrays.copyOfRange(big, 5, big.length));
      same.sendResult("ok", 1, 'I');
      while (queued.read().type() != 'Z') {
        // the reply
      }
    }
  }
}

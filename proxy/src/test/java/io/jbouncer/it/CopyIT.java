package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.protocol.frontend.Bind;
import io.jbouncer.protocol.frontend.Execute;
import io.jbouncer.protocol.frontend.FrontendMessage;
import io.jbouncer.protocol.frontend.Parse;
import io.jbouncer.protocol.frontend.Sync;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * COPY FROM STDIN in the extended protocol, as libpq sends it (Parse, Bind, Execute, Sync; then the
 * data, CopyDone and another Sync): PostgreSQL ignores the Sync that arrives in copy-in mode and
 * answers one ReadyForQuery, and the server must still go back to the pool after it.
 */
class CopyIT {
  @TempDir Path dir;

  private static byte[] frames(FrontendMessage... messages) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (FrontendMessage m : messages) {
      ByteBuf buf = m.encodeTo(Unpooled.buffer());
      out.writeBytes(ByteBufUtil.getBytes(buf));
      buf.release();
    }
    return out.toByteArray();
  }

  private static byte[] copyData(String text) {
    return RawClient.typed('d', text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Sends COPY FROM STDIN as libpq does in the extended protocol, Sync included, and reads up to
   * CopyInResponse.
   */
  private static void startCopy(RawClient copier) throws Exception {
    copier.send(
        frames(
            new Parse("", "copy copy_ext from stdin", List.of()),
            new Bind("", "", List.of()),
            new Execute("", 0),
            new Sync()));
    assertThat(copier.read().type()).isEqualTo('1'); // ParseComplete
    assertThat(copier.read().type()).isEqualTo('2'); // BindComplete
    assertThat(copier.read().type()).isEqualTo('G'); // CopyInResponse
  }

  /** Reads up to ReadyForQuery; returns the message types seen, e.g. "12CZ". */
  private static String replyTypes(RawClient client) throws Exception {
    StringBuilder types = new StringBuilder();
    RawClient.Message m;
    do {
      m = client.read();
      types.append(m.type());
    } while (m.type() != 'Z');
    return types.toString();
  }

  @Test
  void extendedCopyInDoneOrFailedLeavesAServerThatGoesBackToThePool() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "default_pool_size = 1\n");
        Connection setup = proxy.connect();
        Statement st = setup.createStatement()) {
      st.execute("create table if not exists copy_ext (v text)");
      st.execute("truncate copy_ext");
      try (RawClient copier = RawClient.loggedIn(proxy.port(), "scram_user", "scram_pass")) {
        startCopy(copier);
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        rest.writeBytes(copyData("one\n"));
        rest.writeBytes(copyData("two\n"));
        rest.writeBytes(RawClient.typed('c', new byte[0]));
        rest.writeBytes(frames(new Sync()));
        copier.send(rest.toByteArray());
        assertThat(replyTypes(copier)).as("one ReadyForQuery for two Syncs").isEqualTo("CZ");

        // pool_size 1: the next client gets the same server, so it must have been released
        assertThat(TransactionPoolingIT.scalar(st, "select count(*) from copy_ext")).isEqualTo("2");

        // the same, abandoned with CopyFail: an error, then one ReadyForQuery for the new Sync
        startCopy(copier);
        ByteArrayOutputStream abandon = new ByteArrayOutputStream();
        abandon.writeBytes(copyData("three\n"));
        abandon.writeBytes(RawClient.typed('f', RawClient.cstring("changed my mind")));
        abandon.writeBytes(frames(new Sync()));
        copier.send(abandon.toByteArray());
        assertThat(replyTypes(copier)).isEqualTo("EZ");
        assertThat(TransactionPoolingIT.scalar(st, "select count(*) from copy_ext")).isEqualTo("2");
      }
    }
  }
}

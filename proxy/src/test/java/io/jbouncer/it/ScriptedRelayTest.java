package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The relay and the pool against a {@link ScriptedBackend}, for the exact orderings and failures a
 * real server produces only by chance. Pool size 1 unless a test says otherwise, so "the next
 * client got the server" is observable on the backend.
 */
class ScriptedRelayTest extends ScriptedProxyTest {

  private void awaitServerCount(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      int servers =
          proxy.bouncer().pooler().pools().stream().mapToInt(p -> p.counts().servers()).sum();
      if (servers == expected) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the pool never reached " + expected + " server(s)");
  }

  /**
   * Reads one reply up to ReadyForQuery; returns the DataRow values joined by ',' and the status.
   */
  private static String readReply(RawClient client) throws Exception {
    StringBuilder values = new StringBuilder();
    while (true) {
      RawClient.Message m = client.read();
      switch (m.type()) {
        case 'D' -> {
          if (values.length() > 0) {
            values.append(',');
          }
          values.append(new String(m.body(), 6, m.body().length - 6, StandardCharsets.UTF_8));
        }
        case 'E' -> values.append("ERROR:").append(m.fields().get('M'));
        case 'Z' -> {
          return values + "|" + (char) m.body()[0];
        }
        default -> {}
      }
    }
  }

  @Test
  void largeReplyIsRelayedWholeAndItsServerServesTheNextClient() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient a = client();
        RawClient b = client()) {
      a.send(query("big"));
      ScriptedBackend.Session server = backend.nextSession();
      assertThat(server.readQuery()).isEqualTo("big");
      // 3 MB and its ReadyForQuery in one write, far more than the client's 64 KB write buffer:
      // backpressure pauses and resumes the server's reads several times on the way
      server.sendResult("x".repeat(1000), 3000, 'I');
      String big = readReply(a);
      assertThat(big).endsWith("|I").hasSize(3000 * 1001 - 1 + 2);

      b.send(query("next"));
      assertThat(server.readQuery()).isEqualTo("next");
      server.sendResult("served", 1, 'I');
      assertThat(readReply(b)).isEqualTo("served|I");
    }
  }

  @Test
  void serverDyingMidQueryFailsThatClientOnlyAndIsReplaced() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient a = client();
        RawClient b = client()) {
      a.send(query("doomed"));
      ScriptedBackend.Session first = backend.nextSession();
      assertThat(first.readQuery()).isEqualTo("doomed");
      first.close();
      Map<Character, String> error = a.readError();
      assertThat(error).containsEntry('S', "FATAL").containsEntry('M', "server conn crashed?");
      assertThat(a.closedByServer()).isTrue();

      b.send(query("after"));
      ScriptedBackend.Session second = backend.nextSession();
      assertThat(second.readQuery()).isEqualTo("after");
      second.sendResult("fresh", 1, 'I');
      assertThat(readReply(b)).isEqualTo("fresh|I");
    }
  }

  @Test
  void idleServerTerminatedByPostgresIsDroppedAndTheClientGetsANewOne() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient a = client()) {
      a.send(query("one"));
      ScriptedBackend.Session first = backend.nextSession();
      first.readQuery();
      first.sendResult("1", 1, 'I');
      assertThat(readReply(a)).isEqualTo("1|I");

      first.send(
          ScriptedBackend.error(
              "FATAL", "57P01", "terminating connection due to administrator command"));
      first.close();
      awaitServerCount(0); // the client's next query must not race the proxy reading the FATAL

      a.send(query("two"));
      ScriptedBackend.Session second = backend.nextSession();
      assertThat(second.readQuery()).isEqualTo("two");
      second.sendResult("2", 1, 'I');
      assertThat(readReply(a)).as("the idle server's death is not the client's").isEqualTo("2|I");
    }
  }

  @Test
  void clientParametersAreSetOnTheServerBeforeItsFirstQuery() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient plain = client()) {
      plain.send(query("warm up"));
      ScriptedBackend.Session server = backend.nextSession();
      assertThat(server.readQuery()).isEqualTo("warm up");
      server.sendResult("ok", 1, 'I');
      readReply(plain);

      try (RawClient named = new RawClient(proxy.port())) {
        named.send(
            RawClient.startup(
                "user", "trust_user", "database", "app", "application_name", "o'reports"));
        RawClient.Message request = named.read();
        byte[] salt = java.util.Arrays.copyOfRange(request.body(), 4, 8);
        named.send(
            RawClient.typed(
                'p',
                RawClient.cstring(
                    io.jbouncer.protocol.auth.Md5Password.clientResponse(
                        "trust_user", "trust_pass", salt))));
        while (named.read().type() != 'Z') {
          // welcome
        }
        named.send(query("mine"));
        assertThat(server.readQuery())
            .isEqualTo("SELECT pg_catalog.set_config(E'application_name', E'o''reports', false);");
        server.send(
            ScriptedBackend.commandComplete("SELECT 1"),
            ScriptedBackend.parameterStatus("application_name", "o'reports"),
            ScriptedBackend.readyForQuery('I'));
        assertThat(server.readQuery()).isEqualTo("mine");
        server.sendResult("named", 1, 'I');
        assertThat(readReply(named))
            .as("the SET's replies are not the client's")
            .isEqualTo("named|I");
      }

      plain.send(query("back"));
      assertThat(server.readQuery())
          .as("and the plain client gets its value back")
          .isEqualTo("SELECT pg_catalog.set_config(E'application_name', E'', false);");
      server.send(ScriptedBackend.commandComplete("SELECT 1"), ScriptedBackend.readyForQuery('I'));
      assertThat(server.readQuery()).isEqualTo("back");
      server.sendResult("b", 1, 'I');
      assertThat(readReply(plain)).isEqualTo("b|I");
    }
  }

  @Test
  void aPinTakenWhileTheSessionCheckIsOnItsWayOutlivesTheCheck() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient a = client()) {
      a.send(query("select set_config('work_mem', '1MB', false)"));
      ScriptedBackend.Session server = backend.nextSession();
      assertThat(server.readQuery()).isEqualTo("select set_config('work_mem', '1MB', false)");
      server.sendResult("1MB", 1, 'I');
      assertThat(readReply(a)).isEqualTo("1MB|I");
      assertThat(server.readQuery()).as("the session check").startsWith(SESSION_CHECK);

      a.send(query("LISTEN x")); // pins, before the check has its answer
      assertThat(server.readQuery()).isEqualTo("LISTEN x");
      // the check ran before the LISTEN: nothing pins in its answer
      server.send(
          checkRow("s", "work_mem", "1024"),
          ScriptedBackend.commandComplete("SELECT 1"),
          ScriptedBackend.readyForQuery('I'),
          ScriptedBackend.commandComplete("LISTEN"),
          ScriptedBackend.readyForQuery('I'));
      assertThat(readReply(a)).as("the check's replies are not the client's").isEqualTo("|I");
      assertThat(server.readQuery())
          .as("still pinned, so asked again rather than released on a stale answer")
          .contains(PIN_CHECK);
      server.send(
          checkRow("p", "LISTEN", null),
          ScriptedBackend.commandComplete("SELECT 1"),
          ScriptedBackend.readyForQuery('I'));
      a.send(query("select 'still mine'"));
      assertThat(server.readQuery()).isEqualTo("select 'still mine'");
      server.sendResult("still mine", 1, 'I');
      assertThat(readReply(a)).isEqualTo("still mine|I");
    }
  }

  private static final String SESSION_CHECK =
      "SELECT 's', name, setting FROM pg_catalog.pg_settings";
  private static final String PIN_CHECK = "SELECT 'p', 'LISTEN', NULL";

  private static byte[] checkRow(String kind, String name, String value) {
    io.netty.buffer.ByteBuf row =
        new io.jbouncer.protocol.backend.DataRow(
                java.util.Arrays.asList(
                    kind.getBytes(StandardCharsets.UTF_8),
                    name.getBytes(StandardCharsets.UTF_8),
                    value == null ? null : value.getBytes(StandardCharsets.UTF_8)))
            .encodeTo(io.netty.buffer.Unpooled.buffer());
    try {
      return io.netty.buffer.ByteBufUtil.getBytes(row);
    } finally {
      row.release();
    }
  }

  @Test
  void aStartupValueInAnotherSpellingIsSyncedOnceNotOnEveryServer() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient c = new RawClient(proxy.port())) {
      // pgjdbc sends DateStyle=ISO; PostgreSQL spells the same setting 'ISO, MDY'
      c.send(RawClient.startup("user", "trust_user", "database", "app", "DateStyle", "ISO"));
      assertThat(c.finishMd5Login("trust_user", "trust_pass")).isEqualTo("logged in");
      c.send(query("first"));
      ScriptedBackend.Session server = backend.nextSession();
      assertThat(server.readQuery())
          .isEqualTo("SELECT pg_catalog.set_config(E'DateStyle', E'ISO', false);");
      // unchanged for PostgreSQL: no ParameterStatus
      server.send(ScriptedBackend.commandComplete("SELECT 1"), ScriptedBackend.readyForQuery('I'));
      assertThat(server.readQuery()).isEqualTo("first");
      server.sendResult("1", 1, 'I');
      assertThat(readReply(c)).isEqualTo("1|I");
      c.send(query("second"));
      assertThat(server.readQuery()).as("no sync the second time").isEqualTo("second");
      server.sendResult("2", 1, 'I');
      assertThat(readReply(c)).isEqualTo("2|I");
    }
  }

  @Test
  void pipelinedQueriesHoldTheServerUntilTheLastReadyForQuery() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient a = client();
        RawClient b = client()) {
      ByteArrayOutputStream two = new ByteArrayOutputStream();
      two.writeBytes(query("first"));
      two.writeBytes(query("second"));
      a.send(two.toByteArray());
      ScriptedBackend.Session server = backend.nextSession();
      assertThat(server.readQuery()).isEqualTo("first");
      assertThat(server.readQuery()).isEqualTo("second");

      server.sendResult("1", 1, 'I');
      assertThat(readReply(a)).isEqualTo("1|I");
      b.send(query("waiting"));
      assertThat(server.silentFor(300)).as("b waits: a still has a query outstanding").isTrue();

      server.sendResult("2", 1, 'I');
      assertThat(readReply(a)).isEqualTo("2|I");
      assertThat(server.readQuery()).isEqualTo("waiting");
      server.sendResult("3", 1, 'I');
      assertThat(readReply(b)).isEqualTo("3|I");
    }
  }

  @Test
  void openTransactionKeepsItsServerAndTheNextClientWaitsInLine() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    try (RawClient a = client();
        RawClient b = client()) {
      a.send(query("begin"));
      ScriptedBackend.Session server = backend.nextSession();
      server.readQuery();
      server.send(ScriptedBackend.commandComplete("BEGIN"), ScriptedBackend.readyForQuery('T'));
      assertThat(readReply(a)).isEqualTo("|T");

      b.send(query("b's"));
      assertThat(server.silentFor(300)).isTrue();
      assertThat(backend.noNewSessionWithin(100)).as("pool_size 1 is a hard cap").isTrue();

      a.send(query("commit"));
      assertThat(server.readQuery()).isEqualTo("commit");
      server.send(ScriptedBackend.commandComplete("COMMIT"), ScriptedBackend.readyForQuery('I'));
      assertThat(readReply(a)).isEqualTo("|I");
      assertThat(server.readQuery()).isEqualTo("b's");
      server.sendResult("b", 1, 'I');
      assertThat(readReply(b)).isEqualTo("b|I");
    }
  }

  /**
   * The end of one client's reply and the next client's whole reply in one read of the server, both
   * clients on the server's event loop: each reply reaches its client. (jbouncer once flushed only
   * the last client of a read batch, leaving the first with its reply unsent: pgbench hung under
   * load with 656 bytes waiting in Netty's buffer.)
   */
  @Test
  void twoClientsRepliesInOneReadOfTheServerBothGetFlushed() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "worker_threads = 1\n");
    try (RawClient a = client();
        RawClient b = client()) {
      a.send(query("a's"));
      ScriptedBackend.Session server = backend.nextSession();
      assertThat(server.readQuery()).isEqualTo("a's");
      b.send(query("b's"));
      assertThat(server.silentFor(200)).as("b waits for the only server").isTrue();
      // a's reply and, ahead of time, b's: the server goes to b at a's ReadyForQuery, in the
      // middle of this one read
      ByteArrayOutputStream replies = new ByteArrayOutputStream();
      for (String value : new String[] {"a", "b"}) {
        replies.writeBytes(ScriptedBackend.rowDescription("v"));
        replies.writeBytes(ScriptedBackend.dataRow(value));
        replies.writeBytes(ScriptedBackend.commandComplete("SELECT 1"));
        replies.writeBytes(ScriptedBackend.readyForQuery('I'));
      }
      server.send(replies.toByteArray());
      assertThat(readReply(a)).isEqualTo("a|I");
      assertThat(readReply(b)).isEqualTo("b|I");
      assertThat(server.readQuery()).isEqualTo("b's");
    }
  }

  @Test
  void clientLeavingInsideATransactionGetsItsServerClosedNotPooled() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "");
    ScriptedBackend.Session first;
    try (RawClient a = client()) {
      a.send(query("begin"));
      first = backend.nextSession();
      first.readQuery();
      first.send(ScriptedBackend.commandComplete("BEGIN"), ScriptedBackend.readyForQuery('T'));
      readReply(a);
    }
    assertThat(first.closedByProxy()).isTrue();
    try (RawClient b = client()) {
      b.send(query("clean"));
      ScriptedBackend.Session second = backend.nextSession();
      assertThat(second.readQuery()).isEqualTo("clean");
      second.sendResult("c", 1, 'I');
      assertThat(readReply(b)).isEqualTo("c|I");
    }
  }

  @Test
  void idleServersAreReusedLastInFirstOutUnlessServerRoundRobin() throws Exception {
    for (boolean roundRobin : new boolean[] {false, true}) {
      // one event loop: with several, a server on the client's own loop is preferred first
      proxy =
          ProxyFixture.startScripted(
              java.nio.file.Files.createDirectories(dir.resolve(roundRobin ? "rr" : "lifo")),
              backend.port(),
              "default_pool_size = 2\nworker_threads = 1\nserver_round_robin = "
                  + (roundRobin ? 1 : 0)
                  + "\n");
      try (RawClient a = client();
          RawClient b = client()) {
        // two servers: a's transaction holds the first while b gets the second
        a.send(query("begin"));
        ScriptedBackend.Session first = backend.nextSession();
        first.readQuery();
        first.send(ScriptedBackend.commandComplete("BEGIN"), ScriptedBackend.readyForQuery('T'));
        readReply(a);
        b.send(query("b"));
        ScriptedBackend.Session second = backend.nextSession();
        second.readQuery();
        second.sendResult("b", 1, 'I'); // second goes idle first
        readReply(b);
        a.send(query("commit"));
        first.readQuery();
        first.sendResult("a", 1, 'I'); // first goes idle last
        readReply(a);

        b.send(query("which"));
        ScriptedBackend.Session expected = roundRobin ? second : first;
        assertThat(expected.readQuery())
            .as(roundRobin ? "least recently used" : "most recently used")
            .isEqualTo("which");
        expected.sendResult("x", 1, 'I');
        readReply(b);
      }
      proxy.close();
      proxy = null;
    }
  }

  @Test
  void idleServerIsCheckedBeforeReuseAfterServerCheckDelay() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "server_check_delay = 0\n");
    try (RawClient a = client()) {
      ScriptedBackend.Session server = roundTrip(a, null, 'I');

      a.send(query("second"));
      assertThat(server.readQuery()).as("server_check_query <empty>: an empty query").isEmpty();
      server.send(RawClient.typed('I', new byte[0]), ScriptedBackend.readyForQuery('I'));
      assertThat(server.readQuery()).isEqualTo("second");
      server.sendResult("2", 1, 'I');
      assertThat(readReply(a)).as("the check's replies are not the client's").isEqualTo("2|I");
    }
  }

  @Test
  void failedServerCheckReplacesTheServer() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "server_check_delay = 0\nserver_check_query = select 1\n");
    try (RawClient a = client()) {
      ScriptedBackend.Session broken = roundTrip(a, null, 'I');

      a.send(query("second"));
      assertThat(broken.readQuery()).isEqualTo("select 1");
      broken.send(
          ScriptedBackend.error("ERROR", "XX000", "something is wrong"),
          ScriptedBackend.readyForQuery('I'));
      assertThat(broken.closedByProxy()).isTrue();
      ScriptedBackend.Session fresh = backend.nextSession();
      assertThat(fresh.readQuery()).isEqualTo("second");
      fresh.sendResult("2", 1, 'I');
      assertThat(readReply(a)).isEqualTo("2|I");
    }
  }

  @Test
  void emptyServerCheckQueryDisablesTheCheck() throws Exception {
    proxy =
        ProxyFixture.startScripted(
            dir, backend.port(), "server_check_delay = 0\nserver_check_query =\n");
    try (RawClient a = client()) {
      ScriptedBackend.Session server = roundTrip(a, null, 'I');
      a.send(query("second"));
      assertThat(server.readQuery()).isEqualTo("second");
      server.sendResult("2", 1, 'I');
      readReply(a);
    }
  }

  @Test
  void sessionModeResetsTheServerBeforeTheNextClient() throws Exception {
    proxy = ProxyFixture.startScripted(dir, backend.port(), "pool_mode = session\n");
    ScriptedBackend.Session server;
    try (RawClient a = client()) {
      a.send(query("set work_mem = '1GB'"));
      server = backend.nextSession();
      server.readQuery();
      server.send(ScriptedBackend.commandComplete("SET"), ScriptedBackend.readyForQuery('I'));
      readReply(a);
      a.send(RawClient.typed('X', new byte[0]));
      assertThat(server.readQuery()).isEqualTo("DISCARD ALL");
      server.send(
          ScriptedBackend.commandComplete("DISCARD ALL"), ScriptedBackend.readyForQuery('I'));
    }
    try (RawClient b = client()) {
      b.send(query("after reset"));
      assertThat(server.readQuery()).isEqualTo("after reset");
      server.sendResult("reused", 1, 'I');
      assertThat(readReply(b)).isEqualTo("reused|I");
    }
  }
}

package io.jbouncer.it;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tests of jbouncer in front of a {@link ScriptedBackend}: a fresh backend per test; the test
 * starts {@link #proxy} with the settings it needs; both are closed afterwards.
 */
abstract class ScriptedProxyTest {
  @TempDir Path dir;
  ScriptedBackend backend;
  ProxyFixture proxy;

  @BeforeEach
  void startBackend() throws Exception {
    backend = new ScriptedBackend();
  }

  @AfterEach
  void stopBoth() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    backend.close();
  }

  /** A client logged in through the proxy (md5, as trust_user), past its first ReadyForQuery. */
  RawClient client() throws Exception {
    return RawClient.loggedIn(proxy.port(), "trust_user", "trust_pass");
  }

  static byte[] query(String sql) {
    return RawClient.typed('Q', RawClient.cstring(sql));
  }

  /**
   * Runs one query to completion through {@code client}: the backend ({@code server}, or the next
   * session it opens when null) must receive it and answers "ok" with {@code status}.
   */
  ScriptedBackend.Session roundTrip(
      RawClient client,
      ScriptedBackend.@org.jspecify.annotations.Nullable Session server,
      char status)
      throws Exception {
    client.send(query("q"));
    ScriptedBackend.Session s = server != null ? server : backend.nextSession();
    org.assertj.core.api.Assertions.assertThat(s.readQuery()).isEqualTo("q");
    s.sendResult("ok", 1, status);
    while (client.read().type() != 'Z') {
      // the reply
    }
    return s;
  }
}

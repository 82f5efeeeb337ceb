package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile SCRAM exchanges, sent by a handwritten client: each gets a FATAL with the SQLSTATE and
 * text below, the connection closes, and a client logged in all along keeps working.
 */
class ScramBadInputIT {
  @TempDir static Path dir;
  static ProxyFixture proxy;
  static Connection bystander;

  @BeforeAll
  static void start() throws Exception {
    proxy =
        ProxyFixture.start(
            dir,
            ProxyFixture.defaultDatabases(),
            "auth_type = scram-sha-256\nclient_login_timeout = 1\n",
            ProxyFixture.USERLIST);
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

  /** Starts a login as scram_user and returns the client after AuthenticationSASL. */
  private static RawClient saslStarted() throws Exception {
    RawClient raw = new RawClient(proxy.port());
    raw.send(RawClient.startup("user", "scram_user", "database", "app"));
    RawClient.Message sasl = raw.read();
    assertThat(sasl.type()).isEqualTo('R');
    assertThat(java.nio.ByteBuffer.wrap(sasl.body()).getInt())
        .as("AuthenticationSASL")
        .isEqualTo(10);
    assertThat(new String(sasl.body(), 4, sasl.body().length - 4, StandardCharsets.UTF_8))
        .isEqualTo("SCRAM-SHA-256\0\0");
    return raw;
  }

  private static byte[] initialResponse(String mechanism, String data) {
    byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(RawClient.cstring(mechanism));
    body.write(bytes.length >>> 24);
    body.write(bytes.length >>> 16);
    body.write(bytes.length >>> 8);
    body.write(bytes.length);
    body.writeBytes(bytes);
    return RawClient.typed('p', body.toByteArray());
  }

  /** Sends a good client-first and returns the server-first text. */
  private static String serverFirst(RawClient raw, String clientNonce) throws Exception {
    raw.send(initialResponse("SCRAM-SHA-256", "n,,n=,r=" + clientNonce));
    RawClient.Message cont = raw.read();
    assertThat(java.nio.ByteBuffer.wrap(cont.body()).getInt()).as("SASLContinue").isEqualTo(11);
    return new String(cont.body(), 4, cont.body().length - 4, StandardCharsets.UTF_8);
  }

  private static void assertFails(RawClient raw, String sqlState, String message) throws Exception {
    Map<Character, String> error = raw.readError();
    assertThat(error)
        .containsEntry('S', "FATAL")
        .containsEntry('C', sqlState)
        .containsEntry('M', message);
    assertThat(raw.closedByServer()).isTrue();
  }

  private static final String SASL_FAILED = "SASL authentication failed";

  @Test
  void mechanismNotOffered() throws Exception {
    try (RawClient raw = saslStarted()) {
      raw.send(initialResponse("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abc"));
      assertFails(raw, "08P01", "client selected an invalid SASL authentication mechanism");
    }
  }

  @Test
  void clientFirstWithBadChannelBindingFlag() throws Exception {
    try (RawClient raw = saslStarted()) {
      raw.send(initialResponse("SCRAM-SHA-256", "x,,n=,r=abcdef"));
      assertFails(raw, "28P01", SASL_FAILED);
    }
  }

  @Test
  void clientFirstRequiringChannelBinding() throws Exception {
    try (RawClient raw = saslStarted()) {
      raw.send(initialResponse("SCRAM-SHA-256", "p=tls-server-end-point,,n=,r=abcdef"));
      assertFails(raw, "28P01", SASL_FAILED);
    }
  }

  @Test
  void clientFirstWithoutNonce() throws Exception {
    try (RawClient raw = saslStarted()) {
      raw.send(initialResponse("SCRAM-SHA-256", "n,,n="));
      assertFails(raw, "28P01", SASL_FAILED);
    }
  }

  @Test
  void oversizeClientFirst() throws Exception {
    try (RawClient raw = saslStarted()) {
      raw.send(initialResponse("SCRAM-SHA-256", "n,,n=,r=" + "a".repeat(5000)));
      assertFails(raw, "28P01", SASL_FAILED);
    }
  }

  @Test
  void clientFinalWithoutNonce() throws Exception {
    try (RawClient raw = saslStarted()) {
      serverFirst(raw, "clientnonce");
      raw.send(RawClient.typed('p', "c=biws,p=AAAA".getBytes(StandardCharsets.UTF_8)));
      assertFails(raw, "28P01", SASL_FAILED);
    }
  }

  @Test
  void clientFinalWithWrongNonce() throws Exception {
    try (RawClient raw = saslStarted()) {
      serverFirst(raw, "clientnonce");
      String proof = java.util.Base64.getEncoder().encodeToString(new byte[32]);
      raw.send(
          RawClient.typed(
              'p', ("c=biws,r=clientnonceXYZ,p=" + proof).getBytes(StandardCharsets.UTF_8)));
      assertFails(raw, "28P01", SASL_FAILED);
    }
  }

  @Test
  void clientFinalWithBadBase64Proof() throws Exception {
    try (RawClient raw = saslStarted()) {
      String first = serverFirst(raw, "clientnonce");
      String nonce = first.substring(2, first.indexOf(','));
      raw.send(
          RawClient.typed(
              'p', ("c=biws,r=" + nonce + ",p=***not base64***").getBytes(StandardCharsets.UTF_8)));
      assertFails(raw, "28P01", SASL_FAILED);
    }
  }

  @Test
  void clientFinalWithWrongProofIsAWrongPassword() throws Exception {
    try (RawClient raw = saslStarted()) {
      String first = serverFirst(raw, "clientnonce");
      String nonce = first.substring(2, first.indexOf(','));
      String proof = java.util.Base64.getEncoder().encodeToString(new byte[32]);
      raw.send(
          RawClient.typed(
              'p', ("c=biws,r=" + nonce + ",p=" + proof).getBytes(StandardCharsets.UTF_8)));
      assertFails(raw, "28P01", SASL_FAILED);
    }
  }

  @Test
  void clientThatStopsMidExchangeIsDroppedAfterClientLoginTimeout() throws Exception {
    try (RawClient raw = saslStarted()) {
      serverFirst(raw, "clientnonce");
      assertFails(raw, "08P01", "client_login_timeout"); // nothing sent: timeout after 1 s
    }
  }

  @Test
  void passwordMessageOverTheLimit() throws Exception {
    try (RawClient raw = saslStarted()) {
      raw.send(RawClient.typed('p', new byte[70_000]));
      assertFails(raw, "08P01", "password packet length: 70005 (expected: <= 65536)");
    }
  }
}

package io.jbouncer.protocol.auth;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.jbouncer.protocol.auth.ScramException.Kind;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Against RFC 7677 section 3, our own client, and the failures PgBouncer's scram.c names. */
class ScramServerTest {
  private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
  private static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  private static final String NONCE = CLIENT_NONCE + SERVER_NONCE;
  private static final String CLIENT_FIRST = "n,,n=user,r=" + CLIENT_NONCE;
  private static final String SERVER_FIRST = "r=" + NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  private static final String PROOF = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  private static final String CLIENT_FINAL = "c=biws,r=" + NONCE + ",p=" + PROOF;
  private static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
  private static final ScramSecret PENCIL =
      new ScramSecret(
          4096, ScramSha256Test.SALT, ScramSha256Test.STORED_KEY, ScramSha256Test.SERVER_KEY);
  private static final byte[] MOCK_KEY = ScramServer.newMockSecretKey();

  @Test
  void followsTheRfc7677Example() {
    ScramServer server = ScramServer.forSecret(PENCIL, SERVER_NONCE);

    assertThat(text(server.serverFirstMessage(bytes(CLIENT_FIRST)))).isEqualTo(SERVER_FIRST);
    assertThat(server.isAuthenticated()).isFalse();
    assertThat(server.clientKey()).isNull();
    assertThat(text(server.serverFinalMessage(bytes(CLIENT_FINAL)))).isEqualTo(SERVER_FINAL);
    assertThat(server.isAuthenticated()).isTrue();
    assertThat(server.clientKey()).isEqualTo(ScramSha256Test.CLIENT_KEY);
  }

  @Test
  void logsInOurOwnClient() {
    byte[] salt = ScramSha256.randomSalt();
    ScramServer server = ScramServer.forSecret(ScramSecret.fromPassword("s3cr\u00e9t", salt, 4096));
    ScramClient client = ScramClient.withPassword("s3cr\u00e9t");

    byte[] serverFirst = server.serverFirstMessage(client.clientFirstMessage());
    byte[] serverFinal = server.serverFinalMessage(client.clientFinalMessage(serverFirst));
    client.verifyServerFinal(serverFinal);

    assertThat(server.isAuthenticated()).isTrue();
    assertThat(server.clientKey())
        .isEqualTo(ScramSha256.clientKey(ScramSha256.saltedPassword("s3cr\u00e9t", salt, 4096)));
  }

  @Test
  void theRecoveredClientKeyLogsInWithoutThePassword() {
    ScramSecret secret = ScramSecret.fromPassword("pencil", ScramSha256.randomSalt(), 4096);
    ScramServer first = ScramServer.forSecret(secret);
    ScramClient withPassword = ScramClient.withPassword("pencil");
    first.serverFinalMessage(
        withPassword.clientFinalMessage(
            first.serverFirstMessage(withPassword.clientFirstMessage())));

    ScramServer second = ScramServer.forSecret(secret);
    ScramClient withKeys = ScramClient.withKeys(first.clientKey(), secret.serverKey());
    byte[] serverFinal =
        second.serverFinalMessage(
            withKeys.clientFinalMessage(second.serverFirstMessage(withKeys.clientFirstMessage())));
    withKeys.verifyServerFinal(serverFinal);
    assertThat(second.isAuthenticated()).isTrue();
  }

  @Test
  void usesAFreshServerNonceOfEighteenBytes() {
    String one = text(ScramServer.forSecret(PENCIL).serverFirstMessage(bytes(CLIENT_FIRST)));
    String two = text(ScramServer.forSecret(PENCIL).serverFirstMessage(bytes(CLIENT_FIRST)));

    assertThat(one)
        .matches("r=" + CLIENT_NONCE + "[A-Za-z0-9+/]{24},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    assertThat(two).isNotEqualTo(one);
  }

  @Test
  void acceptsWhatDriversSend() {
    // libpq sends "n=", pgjdbc "n=*", RFC 5802 the user; "y": the client could bind, we cannot
    assertLogsIn("n,,n=,r=" + CLIENT_NONCE, "biws");
    assertLogsIn("n,,n=*,r=" + CLIENT_NONCE, "biws");
    assertLogsIn("y,,n=user,r=" + CLIENT_NONCE, "eSws");
    assertLogsIn("n,,n=us=2Cer\u00e9,r=" + CLIENT_NONCE, "biws");
  }

  @Test
  void ignoresOptionalExtensionsAsPostgresDoes() {
    String first = "n,,n=,r=" + CLIENT_NONCE + ",x=anything";
    ScramServer server = ScramServer.forSecret(PENCIL, SERVER_NONCE);
    server.serverFirstMessage(bytes(first));
    String withoutProof = "c=biws,r=" + NONCE + ",z=ext";
    String proof = proof("n=,r=" + CLIENT_NONCE + ",x=anything", withoutProof);

    server.serverFinalMessage(bytes(withoutProof + ",p=" + proof));
    assertThat(server.isAuthenticated()).isTrue();
  }

  @Test
  void rejectsAWrongPassword() {
    ScramServer server = ScramServer.forSecret(PENCIL);
    ScramClient client = ScramClient.withPassword("pen");
    byte[] clientFinal =
        client.clientFinalMessage(server.serverFirstMessage(client.clientFirstMessage()));

    assertFails(
        () -> server.serverFinalMessage(clientFinal),
        Kind.AUTHENTICATION_FAILED,
        "password authentication failed");
    assertThat(server.isAuthenticated()).isFalse();
    assertThat(server.clientKey()).isNull();
    assertThatThrownBy(() -> server.serverFinalMessage(clientFinal))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anUnknownUserLooksLikeAKnownOneAndFailsLikeAWrongPassword() {
    ScramServer mock = ScramServer.mock("nobody", MOCK_KEY);
    ScramClient client = ScramClient.withPassword("pencil");
    String serverFirst = text(mock.serverFirstMessage(client.clientFirstMessage()));

    assertThat(serverFirst).matches("r=[A-Za-z0-9+/]{48},s=[A-Za-z0-9+/]{22}==,i=4096");
    byte[] salt = ScramSha256.fromBase64(serverFirst.split(",")[1].substring(2));
    assertThat(salt).hasSize(16);
    byte[] clientFinal = client.clientFinalMessage(bytes(serverFirst));
    assertFails(
        () -> mock.serverFinalMessage(clientFinal),
        Kind.AUTHENTICATION_FAILED,
        "password authentication failed");
    assertThat(mock.isAuthenticated()).isFalse();
    assertThat(mock.clientKey()).isNull();
  }

  @Test
  void aMockEvenRejectsTheProofForItsOwnKeys() {
    // the proof a client would need to pass is unknowable, but even a right one must fail
    ScramServer mock = ScramServer.mock("nobody", MOCK_KEY);
    String serverFirst = text(mock.serverFirstMessage(bytes(CLIENT_FIRST)));
    assertThat(serverFirst).startsWith("r=" + CLIENT_NONCE);
    String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
    String clientFinal = "c=biws,r=" + nonce + ",p=" + PROOF;

    assertFails(
        () -> mock.serverFinalMessage(bytes(clientFinal)),
        Kind.AUTHENTICATION_FAILED,
        "password authentication failed");
  }

  @Test
  void aMockGivesTheSameUserTheSameSalt() {
    String one = salt(ScramServer.mock("nobody", MOCK_KEY));
    String two = salt(ScramServer.mock("nobody", MOCK_KEY));
    String other = salt(ScramServer.mock("somebody", MOCK_KEY));
    String otherProcess = salt(ScramServer.mock("nobody", ScramServer.newMockSecretKey()));

    assertThat(two).isEqualTo(one);
    assertThat(other).isNotEqualTo(one);
    assertThat(otherProcess).isNotEqualTo(one);
    assertThat(salt(ScramServer.mock("nobody", MOCK_KEY, 10000))).isEqualTo(one);
  }

  @Test
  void aMockSaltIsTheStartOfSha256OfTheUserAndTheKey() {
    byte[] key = new byte[32];
    byte[] input = new byte[6 + 32];
    System.arraycopy(bytes("nobody"), 0, input, 0, 6);
    byte[] expected = java.util.Arrays.copyOf(ScramSha256.sha256(input), 16);

    assertThat(ScramServer.mockSalt("nobody", key)).isEqualTo(expected);
  }

  @Test
  void aMockHonoursTheIterationCount() {
    assertThat(
            text(
                ScramServer.mock("nobody", MOCK_KEY, 10000)
                    .serverFirstMessage(bytes(CLIENT_FIRST))))
        .endsWith(",i=10000");
    assertThatThrownBy(() -> ScramServer.mock("nobody", MOCK_KEY, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ScramServer.mock("nobody", new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @MethodSource("malformedClientFirsts")
  void rejectsAMalformedOrUnsupportedClientFirst(String message, Kind kind, String error) {
    ScramServer server = ScramServer.forSecret(PENCIL);

    assertFails(() -> server.serverFirstMessage(bytes(message)), kind, error);
    assertThatThrownBy(() -> server.serverFinalMessage(bytes(CLIENT_FINAL)))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void rejectsANulInTheClientFirst() {
    assertFails(
        () -> ScramServer.forSecret(PENCIL).serverFirstMessage(bytes("n,,n=a\0b,r=abc")),
        Kind.MALFORMED_MESSAGE,
        "malformed SCRAM message (NUL character in client-first-message)");
  }

  @Test
  void boundsTheMessageLength() {
    String name = "u".repeat(ScramServer.MAX_MESSAGE_LENGTH - 8 - CLIENT_NONCE.length());
    String fits = "n,,n=" + name + ",r=" + CLIENT_NONCE;
    assertThat(fits).hasSize(ScramServer.MAX_MESSAGE_LENGTH);
    ScramServer.forSecret(PENCIL).serverFirstMessage(bytes(fits));

    assertFails(
        () -> ScramServer.forSecret(PENCIL).serverFirstMessage(bytes(fits + "x")),
        Kind.MALFORMED_MESSAGE,
        "SCRAM client-first-message length: 2049 (expected: <= 2048)");
    ScramServer server = ScramServer.forSecret(PENCIL, SERVER_NONCE);
    server.serverFirstMessage(bytes(CLIENT_FIRST));
    String huge = CLIENT_FINAL + ",x=" + "y".repeat(ScramServer.MAX_MESSAGE_LENGTH);
    assertFails(
        () -> server.serverFinalMessage(bytes(huge)),
        Kind.MALFORMED_MESSAGE,
        "SCRAM client-final-message length: " + huge.length() + " (expected: <= 2048)");
  }

  @ParameterizedTest
  @MethodSource("malformedClientFinals")
  void rejectsAMalformedClientFinal(String message, String error) {
    ScramServer server = ScramServer.forSecret(PENCIL, SERVER_NONCE);
    server.serverFirstMessage(bytes(CLIENT_FIRST));

    assertFails(() -> server.serverFinalMessage(bytes(message)), Kind.MALFORMED_MESSAGE, error);
    assertThat(server.isAuthenticated()).isFalse();
    assertThat(server.clientKey()).isNull();
  }

  @Test
  void theChannelBindingMustBeTheHeaderTheClientSent() {
    ScramServer server = ScramServer.forSecret(PENCIL, SERVER_NONCE);
    server.serverFirstMessage(bytes("y,,n=user,r=" + CLIENT_NONCE));

    assertFails(
        () -> server.serverFinalMessage(bytes(CLIENT_FINAL)), // c=biws: "n,," but it sent "y,,"
        Kind.MALFORMED_MESSAGE,
        "unexpected SCRAM channel-binding attribute in client-final-message");
  }

  @Test
  void aProofOfTheWrongLengthIsMalformed() {
    ScramServer server = ScramServer.forSecret(PENCIL, SERVER_NONCE);
    server.serverFirstMessage(bytes(CLIENT_FIRST));
    String shortProof = ScramSha256.base64(new byte[31]);

    assertFails(
        () -> server.serverFinalMessage(bytes("c=biws,r=" + NONCE + ",p=" + shortProof)),
        Kind.MALFORMED_MESSAGE,
        "malformed SCRAM message (malformed proof in client-final-message)");
  }

  @Test
  void enforcesTheOrderOfTheSteps() {
    ScramServer server = ScramServer.forSecret(PENCIL, SERVER_NONCE);
    assertThatThrownBy(() -> server.serverFinalMessage(bytes(CLIENT_FINAL)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("serverFinalMessage in state START (expected: FIRST_SENT)");

    server.serverFirstMessage(bytes(CLIENT_FIRST));
    assertThatThrownBy(() -> server.serverFirstMessage(bytes(CLIENT_FIRST)))
        .isInstanceOf(IllegalStateException.class);

    ScramServer done = ScramServer.forSecret(PENCIL, SERVER_NONCE);
    done.serverFirstMessage(bytes(CLIENT_FIRST));
    done.serverFinalMessage(bytes(CLIENT_FINAL));
    assertThatThrownBy(() -> done.serverFinalMessage(bytes(CLIENT_FINAL)))
        .isInstanceOf(IllegalStateException.class);
    assertThat(done.isAuthenticated()).isTrue();
  }

  @Test
  void clientKeyIsACopy() {
    ScramServer server = ScramServer.forSecret(PENCIL, SERVER_NONCE);
    server.serverFirstMessage(bytes(CLIENT_FIRST));
    server.serverFinalMessage(bytes(CLIENT_FINAL));

    byte[] key = server.clientKey();
    key[0] ^= 1;
    assertThat(server.clientKey()).isEqualTo(ScramSha256Test.CLIENT_KEY);
  }

  @Test
  void everyFailureTellsTheClientWhatPgBouncerDoes() {
    assertThat(ScramException.CLIENT_SQLSTATE).isEqualTo("08P01");
    assertThat(ScramException.CLIENT_MESSAGE).isEqualTo("SASL authentication failed");
    assertThat(new ScramException("x").kind()).isEqualTo(Kind.MALFORMED_MESSAGE);
    assertThat(new ScramException(Kind.AUTHENTICATION_FAILED, "x").isAuthenticationFailure())
        .isTrue();
  }

  static Stream<Arguments> malformedClientFirsts() {
    return Stream.of(
        arguments(
            "p=tls-server-end-point,,n=,r=abc",
            Kind.UNSUPPORTED,
            "client requires SCRAM channel binding, but it is not supported"),
        arguments(
            "n,a=user,n=,r=abc",
            Kind.UNSUPPORTED,
            "client uses authorization identity, but it is not supported"),
        arguments(
            "n,,m=ext,n=,r=abc",
            Kind.UNSUPPORTED,
            "client requires an unsupported SCRAM extension"),
        arguments(
            "x,,n=,r=abc",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (unexpected channel-binding flag \"'x'\")"),
        arguments(
            "",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (unexpected channel-binding flag \"0x00\")"),
        arguments(
            "n;,n=,r=abc",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (comma expected, but found character \"';'\")"),
        arguments(
            "n,b,n=,r=abc",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (unexpected attribute \"'b'\" in client-first-message)"),
        arguments(
            "n,,r=abc",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (attribute \"n\" expected)"),
        arguments(
            "n,,n",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (expected \"=\" after attribute \"n\")"),
        arguments(
            "n,,n=", Kind.MALFORMED_MESSAGE, "malformed SCRAM message (attribute \"r\" expected)"),
        arguments(
            "n,,n=,s=abc",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (attribute \"r\" expected)"),
        arguments(
            "n,,n=,r",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (expected \"=\" after attribute \"r\")"),
        arguments(
            "n,,n=,r=",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (empty nonce in client-first-message)"),
        arguments(
            "n,,n=,r=,x=1",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (empty nonce in client-first-message)"),
        arguments("n,,n=,r=a b", Kind.MALFORMED_MESSAGE, "non-printable characters in SCRAM nonce"),
        arguments(
            "n,,n=,r=abc\u00e9", Kind.MALFORMED_MESSAGE, "non-printable characters in SCRAM nonce"),
        arguments(
            "n,,n=,r=abc,",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (garbage at the end of client-first-message)"),
        arguments(
            "n,,n=,r=abc,1=x",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (attribute expected, but found invalid character \"'1'\")"),
        arguments(
            "n,,n=,r=abc,xyz",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (expected character \"=\" after attribute \"x\")"),
        arguments(
            "n,,n=,r=abc,,x=1",
            Kind.MALFORMED_MESSAGE,
            "malformed SCRAM message (attribute expected, but found invalid character \"','\")"));
  }

  static Stream<Arguments> malformedClientFinals() {
    return Stream.of(
        // CVE-2026 (PgBouncer 1.25.2): no nonce must be refused, not dereferenced
        arguments("c=biws,p=" + PROOF, "malformed SCRAM message (attribute \"r\" expected)"),
        arguments("c=biws", "malformed SCRAM message (attribute \"r\" expected)"),
        arguments("", "malformed SCRAM message (attribute \"c\" expected)"),
        arguments(
            "r=" + NONCE + ",p=" + PROOF, "malformed SCRAM message (attribute \"c\" expected)"),
        arguments(
            "c=eSws,r=" + NONCE + ",p=" + PROOF,
            "unexpected SCRAM channel-binding attribute in client-final-message"),
        arguments(
            "c=,r=" + NONCE + ",p=" + PROOF,
            "unexpected SCRAM channel-binding attribute in client-final-message"),
        arguments("c=biws,r=" + NONCE, "could not read proof"),
        arguments("c=biws,r=" + NONCE + ",", "could not read proof"),
        arguments("c=biws,r=" + NONCE + ",x=1", "could not read proof"),
        arguments(
            "c=biws,r=" + CLIENT_NONCE + ",p=" + PROOF,
            "invalid SCRAM response (nonce does not match)"),
        arguments(
            "c=biws,r=" + NONCE + "x,p=" + PROOF, "invalid SCRAM response (nonce does not match)"),
        arguments("c=biws,r=,p=" + PROOF, "invalid SCRAM response (nonce does not match)"),
        arguments(
            "c=biws,r=" + NONCE + ",p=not*base64",
            "malformed SCRAM message (malformed proof in client-final-message)"),
        arguments(
            "c=biws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
            "malformed SCRAM message (malformed proof in client-final-message)"),
        arguments(
            "c=biws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndQ==",
            "malformed SCRAM message (malformed proof in client-final-message)"),
        arguments(
            "c=biws,r=" + NONCE + ",p=",
            "malformed SCRAM message (malformed proof in client-final-message)"),
        arguments(
            "c=biws,r=" + NONCE + ",p=" + PROOF + ",x=1",
            "malformed SCRAM message (garbage at the end of client-final-message)"),
        arguments(
            "c=biws,r=" + NONCE + ",p=" + PROOF + ",",
            "malformed SCRAM message (garbage at the end of client-final-message)"),
        arguments(
            "c=biws,r=" + NONCE + ",1=x,p=" + PROOF,
            "malformed SCRAM message (attribute expected, but found invalid character \"'1'\")"));
  }

  private static void assertLogsIn(String clientFirst, String channelBinding) {
    ScramServer server = ScramServer.forSecret(PENCIL, SERVER_NONCE);
    assertThat(text(server.serverFirstMessage(bytes(clientFirst)))).isEqualTo(SERVER_FIRST);
    String withoutProof = "c=" + channelBinding + ",r=" + NONCE;
    String bare = clientFirst.substring(3);

    server.serverFinalMessage(bytes(withoutProof + ",p=" + proof(bare, withoutProof)));
    assertThat(server.isAuthenticated()).as(clientFirst).isTrue();
  }

  /** The proof for "pencil" over these messages, computed as a client does. */
  private static String proof(String clientFirstBare, String clientFinalWithoutProof) {
    byte[] authMessage =
        (clientFirstBare + "," + SERVER_FIRST + "," + clientFinalWithoutProof).getBytes(ISO_8859_1);
    byte[] signature = ScramSha256.hmac(ScramSha256Test.STORED_KEY, authMessage);
    return ScramSha256.base64(ScramSha256.xor(ScramSha256Test.CLIENT_KEY, signature));
  }

  private static String salt(ScramServer server) {
    String first = text(server.serverFirstMessage(bytes(CLIENT_FIRST)));
    return first.split(",")[1];
  }

  private static void assertFails(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, Kind kind, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ScramException.class, e -> assertThat(e.kind()).as(message).isEqualTo(kind))
        .hasMessage(message);
  }

  /** Latin-1, so that a test can put any byte in a message. */
  private static byte[] bytes(String s) {
    return s.getBytes(ISO_8859_1);
  }

  private static String text(byte[] b) {
    return new String(b, UTF_8);
  }
}

package io.jbouncer.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Against RFC 7677 section 3, and the form libpq sends (an empty user name). */
class ScramClientTest {
  private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
  private static final String SERVER_NONCE = CLIENT_NONCE + "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  private static final String SERVER_FIRST =
      "r=" + SERVER_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  private static final String CLIENT_FINAL =
      "c=biws,r=" + SERVER_NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  private static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
  // the same exchange with "n=," as the user name, computed independently (Python hmac/hashlib)
  private static final String LIBPQ_CLIENT_FINAL =
      "c=biws,r=" + SERVER_NONCE + ",p=qvT2SWdEH5Q06albL+hjSYuUhCG7VndFyzIb7CK4n9k=";
  private static final String LIBPQ_SERVER_FINAL = "v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=";

  @Test
  void followsTheRfc7677Example() {
    ScramClient client = ScramClient.withPassword("pencil", "user", CLIENT_NONCE);

    assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");
    assertThat(text(client.clientFirstMessage())).isEqualTo("n,,n=user,r=" + CLIENT_NONCE);
    assertThat(text(client.clientFinalMessage(bytes(SERVER_FIRST)))).isEqualTo(CLIENT_FINAL);
    client.verifyServerFinal(bytes(SERVER_FINAL));
  }

  @Test
  void provesTheSameFromTheKeys() {
    ScramClient client =
        ScramClient.withKeys(
            ScramSha256Test.CLIENT_KEY, ScramSha256Test.SERVER_KEY, "user", CLIENT_NONCE);

    assertThat(text(client.clientFirstMessage())).isEqualTo("n,,n=user,r=" + CLIENT_NONCE);
    assertThat(text(client.clientFinalMessage(bytes(SERVER_FIRST)))).isEqualTo(CLIENT_FINAL);
    client.verifyServerFinal(bytes(SERVER_FINAL));
  }

  @Test
  void sendsAnEmptyUserNameAsLibpqDoes() {
    ScramClient client = ScramClient.withPassword("pencil", "", CLIENT_NONCE);

    assertThat(text(client.clientFirstMessage())).isEqualTo("n,,n=,r=" + CLIENT_NONCE);
    assertThat(text(client.clientFinalMessage(bytes(SERVER_FIRST)))).isEqualTo(LIBPQ_CLIENT_FINAL);
    client.verifyServerFinal(bytes(LIBPQ_SERVER_FINAL));
  }

  @Test
  void publicFactoriesUseAFreshNonceAndNoUserName() {
    String first = text(ScramClient.withPassword("pencil").clientFirstMessage());
    String other = text(ScramClient.withKeys(new byte[32], new byte[32]).clientFirstMessage());

    assertThat(first).matches("n,,n=,r=[A-Za-z0-9+/]{24}");
    assertThat(other).matches("n,,n=,r=[A-Za-z0-9+/]{24}").isNotEqualTo(first);
  }

  @Test
  void escapesTheUserName() {
    ScramClient client = ScramClient.withPassword("pencil", "a=b,c", CLIENT_NONCE);

    assertThat(text(client.clientFirstMessage())).isEqualTo("n,,n=a=3Db=2Cc,r=" + CLIENT_NONCE);
  }

  @Test
  void rejectsANonceThatDoesNotStartWithOurs() {
    assertServerFirstRejected(
        "r=XOprNGfwEbeRWgbNEkqO%hvYDpW,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "server nonce: \"XOprNGfwEbeRWgbNEkqO%hvYDpW\" (expected: to start with"
            + " rOprNGfwEbeRWgbNEkqO)");
  }

  @Test
  void rejectsANonceThatAddsNothing() {
    assertServerFirstRejected(
        "r=" + CLIENT_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "server nonce: \"rOprNGfwEbeRWgbNEkqO\" (expected: longer than the client nonce)");
  }

  @Test
  void rejectsANonceWithAnUnprintableCharacter() {
    assertServerFirstRejected(
        "r=" + CLIENT_NONCE + "ab\u00e9,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "server nonce character: 0xe9 (expected: printable ASCII)");
  }

  @Test
  void rejectsASaltThatIsNotBase64() {
    assertServerFirstRejected(
        "r=" + SERVER_NONCE + ",s=W22ZaJ0SNY7so*EsUEjb6gQ==,i=4096",
        "server salt: \"W22ZaJ0SNY7so*EsUEjb6gQ==\" (expected: base64)");
    assertServerFirstRejected(
        "r=" + SERVER_NONCE + ",s=,i=4096",
        "server salt: empty (expected: base64 of at least one byte)");
  }

  @Test
  void rejectsAnIterationCountOfZero() {
    assertServerFirstRejected(
        "r=" + SERVER_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
        "server iteration count: \"0\" (expected: 1..100000)");
  }

  @Test
  void rejectsAnIterationCountOverTheBound() {
    assertServerFirstRejected(
        "r=" + SERVER_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=100001",
        "server iteration count: \"100001\" (expected: 1..100000)");
    assertServerFirstRejected(
        "r=" + SERVER_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4294967297",
        "server iteration count: \"4294967297\" (expected: 1..100000)");
    assertServerFirstRejected(
        "r=" + SERVER_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-4096",
        "server iteration count: \"-4096\" (expected: 1..100000)");
    assertServerFirstRejected(
        "r=" + SERVER_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096x",
        "server iteration count: \"4096x\" (expected: 1..100000)");
  }

  @Test
  void acceptsTheBound() {
    ScramClient client = ScramClient.withKeys(new byte[32], new byte[32], "", CLIENT_NONCE);
    client.clientFirstMessage();

    assertThat(
            text(
                client.clientFinalMessage(
                    bytes("r=" + SERVER_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=100000"))))
        .startsWith("c=biws,r=" + SERVER_NONCE + ",p=");
  }

  @Test
  void rejectsExtensionsErrorsAndMalformedMessages() {
    assertServerFirstRejected(
        "m=ext,r=" + SERVER_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "server-first-message: mandatory extension (m=) not supported");
    assertServerFirstRejected(
        "e=other-error", "server-first-message: server error: \"other-error\"");
    assertServerFirstRejected(
        SERVER_FIRST + ",x=extra",
        "server-first-message: \""
            + SERVER_FIRST.substring(0, 64)
            + "\"... (94 characters) (expected: r=<nonce>,s=<salt>,i=<iterations>)");
    assertServerFirstRejected(
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" + SERVER_NONCE + ",i=4096",
        "SCRAM attribute: \"s=W22ZaJ0SNY7soEsUEjb6gQ==\" (expected: r=...)");
  }

  @Test
  void rejectsAServerError() {
    ScramClient client = pastClientFinal();

    assertThatThrownBy(() -> client.verifyServerFinal(bytes("e=invalid-proof")))
        .isInstanceOf(ScramException.class)
        .hasMessage("server-final-message: server error: \"invalid-proof\"");
  }

  @Test
  void rejectsTheWrongServerSignature() {
    assertThatThrownBy(() -> pastClientFinal().verifyServerFinal(bytes(LIBPQ_SERVER_FINAL)))
        .isInstanceOf(ScramException.class)
        .hasMessage("server signature does not match: the server does not know the key");
    // differs from the RFC's signature after the 16th character only
    assertThatThrownBy(
            () ->
                pastClientFinal()
                    .verifyServerFinal(bytes("v=6rriTRBi23WpRR/wcOUAVJMo5NpVFo8S8j7n5r8yJoc=")))
        .isInstanceOf(ScramException.class)
        .hasMessage("server signature does not match: the server does not know the key");
  }

  @Test
  void rejectsAMalformedServerFinal() {
    assertThatThrownBy(() -> pastClientFinal().verifyServerFinal(bytes("v=6rriTRBi23Wp!!")))
        .isInstanceOf(ScramException.class)
        .hasMessage("server signature: \"6rriTRBi23Wp!!\" (expected: base64)");
    assertThatThrownBy(() -> pastClientFinal().verifyServerFinal(bytes("v=AAAA")))
        .isInstanceOf(ScramException.class)
        .hasMessage("server signature length: 3 (expected: 32)");
    assertThatThrownBy(() -> pastClientFinal().verifyServerFinal(bytes(SERVER_FINAL + ",x=1")))
        .isInstanceOf(ScramException.class)
        .hasMessageStartingWith("server-final-message: \"v=6rriTRBi");
    assertThatThrownBy(() -> pastClientFinal().verifyServerFinal(bytes("x=1")))
        .isInstanceOf(ScramException.class)
        .hasMessage("SCRAM attribute: \"x=1\" (expected: v=...)");
  }

  @Test
  void enforcesTheOrderOfTheSteps() {
    ScramClient client = ScramClient.withPassword("pencil", "user", CLIENT_NONCE);

    assertThatThrownBy(() -> client.clientFinalMessage(bytes(SERVER_FIRST)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("clientFinalMessage in state START (expected: FIRST_SENT)");
    client.clientFirstMessage();
    assertThatThrownBy(() -> client.verifyServerFinal(bytes(SERVER_FINAL)))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> client.clientFinalMessage(bytes("e=x")))
        .isInstanceOf(ScramException.class);
    assertThatThrownBy(() -> client.clientFinalMessage(bytes(SERVER_FIRST)))
        .as("a failed exchange cannot go on")
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("clientFinalMessage in state FAILED (expected: FIRST_SENT)");
  }

  @Test
  void refusesKeysOfTheWrongLength() {
    assertThatThrownBy(() -> ScramClient.withKeys(new byte[31], new byte[32]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ClientKey length: 31 (expected: 32)");
  }

  private static ScramClient pastClientFinal() {
    ScramClient client = ScramClient.withPassword("pencil", "user", CLIENT_NONCE);
    client.clientFirstMessage();
    assertThat(text(client.clientFinalMessage(bytes(SERVER_FIRST)))).isEqualTo(CLIENT_FINAL);
    return client;
  }

  private static void assertServerFirstRejected(String serverFirst, String message) {
    ScramClient client = ScramClient.withPassword("pencil", "user", CLIENT_NONCE);
    client.clientFirstMessage();

    assertThatThrownBy(() -> client.clientFinalMessage(bytes(serverFirst)))
        .isInstanceOf(ScramException.class)
        .hasMessage(message);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  private static String text(byte[] b) {
    return new String(b, UTF_8);
  }
}

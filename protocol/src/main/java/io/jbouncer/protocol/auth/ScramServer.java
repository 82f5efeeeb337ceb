package io.jbouncer.protocol.auth;

import io.jbouncer.protocol.auth.ScramException.Kind;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The server side of one SCRAM-SHA-256 exchange, as jbouncer checks a client's password: {@link
 * #serverFirstMessage} answers SASLInitialResponse (in AuthenticationSASLContinue), {@link
 * #serverFinalMessage} answers SASLResponse (in AuthenticationSASLFinal). It follows PostgreSQL's
 * {@code auth-scram.c} and PgBouncer's {@code scram.c}: the only mechanism offered is {@value
 * ScramSha256#MECHANISM}, without channel binding; the user name in the message is ignored (the
 * startup packet names the user); an authorization identity and mandatory extensions are refused;
 * optional extensions after the nonce, and between the nonce and the proof, are ignored as
 * PostgreSQL ignores them. See <a
 * href="https://www.postgresql.org/docs/current/sasl-authentication.html">SASL authentication</a>
 * and <a href="https://www.rfc-editor.org/rfc/rfc5802">RFC 5802</a>.
 *
 * <p>Every failure throws {@link ScramException}; its {@link ScramException#kind kind} tells a
 * wrong password or unknown user from a refused message, its message is PgBouncer's log wording,
 * and the client gets {@link ScramException#CLIENT_SQLSTATE} {@link ScramException#CLIENT_MESSAGE}
 * for all of them. A user who does not exist goes through a {@link #mock} exchange that looks the
 * same and fails the same way as a wrong password.
 *
 * <p>Nothing here is slow (no PBKDF2: the secret holds the derived keys); one instance serves one
 * exchange, in order, from one thread at a time.
 */
public final class ScramServer {
  /**
   * The longest client message accepted, in bytes. Real ones are about 100 bytes (a 24-character
   * nonce, an empty or short user name, a 44-character proof); the bound leaves room for a long
   * user name in {@code n=} and for optional extensions. PgBouncer has no bound of its own beyond
   * its packet size; PostgreSQL reads the whole SASL packet with a limit of 65535 bytes ({@code
   * PG_MAX_AUTH_TOKEN_LENGTH}).
   */
  public static final int MAX_MESSAGE_LENGTH = 2048;

  /**
   * What PgBouncer tells a client (SQLSTATE 08P01, FATAL) whose SASLInitialResponse names another
   * mechanism than {@value ScramSha256#MECHANISM} ({@code client.c}).
   */
  public static final String INVALID_MECHANISM_MESSAGE =
      "client selected an invalid SASL authentication mechanism";

  /** Bytes of the per-process key that makes mock salts unpredictable, as PgBouncer's. */
  public static final int MOCK_SECRET_KEY_LENGTH = 32;

  static final String WRONG_PASSWORD = "password authentication failed";

  private enum State {
    START,
    FIRST_SENT,
    AUTHENTICATED,
    FAILED
  }

  private final int iterations;
  private final byte[] salt;
  private final byte[] storedKey;
  private final byte[] serverKey;
  private final boolean mock;
  private final String serverNonce;
  private State state = State.START;
  private @Nullable String channelBinding;
  private @Nullable String combinedNonce;
  private @Nullable String clientFirstMessageBare;
  private @Nullable String serverFirstMessage;
  private byte @Nullable [] clientKey;

  private ScramServer(
      int iterations,
      byte[] salt,
      byte[] storedKey,
      byte[] serverKey,
      boolean mock,
      String serverNonce) {
    this.iterations = iterations;
    this.salt = salt;
    this.storedKey = storedKey;
    this.serverKey = serverKey;
    this.mock = mock;
    this.serverNonce = serverNonce;
  }

  /** An exchange for a known user with this stored secret. */
  public static ScramServer forSecret(ScramSecret secret) {
    return forSecret(secret, ScramSha256.nonce());
  }

  /** For tests: a fixed server nonce. */
  static ScramServer forSecret(ScramSecret secret, String serverNonce) {
    return new ScramServer(
        secret.iterations(),
        secret.salt(),
        secret.storedKey(),
        secret.serverKey(),
        false,
        serverNonce);
  }

  /**
   * An exchange for a user who does not exist, with {@link ScramSha256#DEFAULT_ITERATIONS}: see
   * {@link #mock(String, byte[], int)}.
   */
  public static ScramServer mock(String user, byte[] mockSecretKey) {
    return mock(user, mockSecretKey, ScramSha256.DEFAULT_ITERATIONS);
  }

  /**
   * An exchange for a user who does not exist. Its server-first-message has the same shape as a
   * real one: a fresh nonce, {@code iterations}, and a 16-byte salt that is the same every time for
   * the same user, derived from the user name and {@code mockSecretKey} (the first 16 bytes of
   * SHA-256(user, key), as PostgreSQL's and PgBouncer's {@code scram_mock_salt}), so that asking
   * twice does not give the user away. Its final step does the same work as a real one and always
   * fails like a wrong password. PgBouncer uses {@code scram_iterations} here, as for the secrets
   * it derives from plain-text passwords.
   *
   * @param mockSecretKey one random key per process, from {@link #newMockSecretKey}; never sent
   */
  public static ScramServer mock(String user, byte[] mockSecretKey, int iterations) {
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations: " + iterations + " (expected: >= 1)");
    }
    return new ScramServer(
        iterations,
        mockSalt(user, mockSecretKey),
        ScramSha256.randomBytes(ScramSha256.KEY_LENGTH),
        ScramSha256.randomBytes(ScramSha256.KEY_LENGTH),
        true,
        ScramSha256.nonce());
  }

  /** A fresh key for {@link #mock}: make one per process and keep it. */
  public static byte[] newMockSecretKey() {
    return ScramSha256.randomBytes(MOCK_SECRET_KEY_LENGTH);
  }

  static byte[] mockSalt(String user, byte[] mockSecretKey) {
    if (mockSecretKey.length == 0) {
      throw new IllegalArgumentException("mock secret key: empty");
    }
    byte[] name = user.getBytes(StandardCharsets.UTF_8);
    byte[] input = new byte[name.length + mockSecretKey.length];
    System.arraycopy(name, 0, input, 0, name.length);
    System.arraycopy(mockSecretKey, 0, input, name.length, mockSecretKey.length);
    byte[] salt = new byte[ScramSha256.DEFAULT_SALT_LENGTH];
    System.arraycopy(ScramSha256.sha256(input), 0, salt, 0, salt.length);
    return salt;
  }

  /**
   * Checks the client-first-message ({@code n,,n=<ignored>,r=<nonce>}) and answers with the
   * server-first-message {@code r=<client nonce><server nonce>,s=<salt>,i=<iterations>}.
   *
   * @throws ScramException if the message is malformed ({@link Kind#MALFORMED_MESSAGE}) or asks for
   *     channel binding, an authorization identity or a mandatory extension ({@link
   *     Kind#UNSUPPORTED})
   * @throws IllegalStateException if this is not the first step of the exchange
   */
  public byte[] serverFirstMessage(byte[] clientFirstMessage) {
    advance(State.START, "serverFirstMessage");
    Cursor in = new Cursor(decode(clientFirstMessage, "client-first-message"));

    char flag = in.peek();
    switch (flag) {
      case 'n', 'y' -> in.skip(); // y: the client could bind but thinks we cannot; fine
      case 'p' ->
          throw new ScramException(
              Kind.UNSUPPORTED, "client requires SCRAM channel binding, but it is not supported");
      default -> throw malformed("unexpected channel-binding flag \"" + sanitize(flag) + "\"");
    }
    if (in.peek() != ',') {
      throw malformed("comma expected, but found character \"" + sanitize(in.peek()) + "\"");
    }
    in.skip();
    if (in.peek() == 'a') {
      throw new ScramException(
          Kind.UNSUPPORTED, "client uses authorization identity, but it is not supported");
    }
    if (in.peek() != ',') {
      throw malformed(
          "unexpected attribute \"" + sanitize(in.peek()) + "\" in client-first-message");
    }
    in.skip();
    String gs2Header = in.text.substring(0, in.pos);
    String bare = in.text.substring(in.pos);

    if (in.peek() == 'm') {
      throw new ScramException(Kind.UNSUPPORTED, "client requires an unsupported SCRAM extension");
    }
    in.attribute('n'); // the user name: the startup packet's counts
    String clientNonce = in.attribute('r');
    if (clientNonce.isEmpty()) {
      throw malformed("empty nonce in client-first-message");
    }
    if (!isPrintable(clientNonce)) {
      throw new ScramException("non-printable characters in SCRAM nonce");
    }
    while (!in.atEnd()) {
      in.anyAttribute(); // optional extensions, ignored as PostgreSQL does
    }
    in.requireNoDanglingComma("client-first-message");

    String nonce = clientNonce + serverNonce;
    String reply = "r=" + nonce + ",s=" + ScramSha256.base64(salt) + ",i=" + iterations;
    channelBinding = ScramSha256.base64(latin1(gs2Header));
    combinedNonce = nonce;
    clientFirstMessageBare = bare;
    serverFirstMessage = reply;
    state = State.FIRST_SENT;
    return latin1(reply);
  }

  /**
   * Checks the client-final-message ({@code c=<gs2 header in base64>,r=<nonce>,p=<proof>}) and the
   * proof in it, and answers with the server-final-message {@code v=<server signature>}.
   *
   * @throws ScramException if the proof is wrong or the user does not exist ({@link
   *     Kind#AUTHENTICATION_FAILED}), or the message is malformed: channel-binding data that is not
   *     the gs2 header the client sent, a missing or different nonce, a proof that is not base64 of
   *     32 bytes, anything after the proof ({@link Kind#MALFORMED_MESSAGE})
   * @throws IllegalStateException if {@link #serverFirstMessage} has not succeeded just before
   */
  public byte[] serverFinalMessage(byte[] clientFinalMessage) {
    advance(State.FIRST_SENT, "serverFinalMessage");
    Cursor in = new Cursor(decode(clientFinalMessage, "client-final-message"));

    if (!in.attribute('c').equals(channelBinding)) {
      throw new ScramException(
          "unexpected SCRAM channel-binding attribute in client-final-message");
    }
    String nonce = in.attribute('r');
    String encodedProof = null;
    int proofStart = -1;
    while (!in.atEnd()) {
      proofStart = in.pos - 1; // the comma before the attribute
      char name = in.peek();
      String value = in.anyAttribute();
      if (name == 'p') {
        encodedProof = value;
        break; // optional extensions before it are ignored, as PostgreSQL does
      }
    }
    if (encodedProof == null) {
      throw new ScramException("could not read proof");
    }
    byte[] proof = decodeProof(encodedProof);
    if (!in.atEnd()) {
      throw malformed("garbage at the end of client-final-message");
    }
    in.requireNoDanglingComma("client-final-message");
    if (!ScramSha256.constantTimeEquals(latin1(nonce), latin1(requireSet(combinedNonce)))) {
      throw new ScramException("invalid SCRAM response (nonce does not match)");
    }

    byte[] authMessage =
        latin1(
            requireSet(clientFirstMessageBare)
                + ','
                + requireSet(serverFirstMessage)
                + ','
                + in.text.substring(0, proofStart));
    byte[] clientSignature = ScramSha256.hmac(storedKey, authMessage);
    byte[] recoveredClientKey = ScramSha256.xor(proof, clientSignature);
    boolean proven =
        ScramSha256.constantTimeEquals(ScramSha256.storedKey(recoveredClientKey), storedKey);
    if (!proven || mock) { // the mock did the same work: no timing difference
      throw new ScramException(Kind.AUTHENTICATION_FAILED, WRONG_PASSWORD);
    }
    clientKey = recoveredClientKey;
    state = State.AUTHENTICATED;
    return latin1("v=" + ScramSha256.base64(ScramSha256.hmac(serverKey, authMessage)));
  }

  /**
   * After a successful exchange, the ClientKey the client proved it has: with the secret's
   * ServerKey, enough to log in to a PostgreSQL server that holds the same secret (PgBouncer's
   * SCRAM pass-through). {@code null} before, or after a failure.
   */
  public byte @Nullable [] clientKey() {
    return clientKey == null ? null : clientKey.clone();
  }

  public boolean isAuthenticated() {
    return state == State.AUTHENTICATED;
  }

  private void advance(State from, String step) {
    if (state != from) {
      throw new IllegalStateException(step + " in state " + state + " (expected: " + from + ")");
    }
    state = State.FAILED; // until the step completes
  }

  /**
   * The message as text, one char per byte, so that substrings give back the exact bytes the client
   * hashed. Bytes above 0x7e are allowed only where SCRAM allows them (the user name and extension
   * values); a NUL is refused (PostgreSQL and PgBouncer read the message as a C string).
   */
  private static String decode(byte[] message, String what) {
    if (message.length > MAX_MESSAGE_LENGTH) {
      throw new ScramException(
          "SCRAM "
              + what
              + " length: "
              + message.length
              + " (expected: <= "
              + MAX_MESSAGE_LENGTH
              + ")");
    }
    for (byte b : message) {
      if (b == 0) {
        throw malformed("NUL character in " + what);
      }
    }
    return new String(message, StandardCharsets.ISO_8859_1);
  }

  private static byte[] decodeProof(String encoded) {
    byte[] proof;
    try {
      proof = ScramSha256.fromBase64(encoded);
    } catch (IllegalArgumentException e) {
      throw malformed("malformed proof in client-final-message");
    }
    // canonical base64 only: Java would also take it without padding
    if (proof.length != ScramSha256.KEY_LENGTH || !ScramSha256.base64(proof).equals(encoded)) {
      throw malformed("malformed proof in client-final-message");
    }
    return proof;
  }

  /** RFC 5802 {@code printable}: %x21-2B / %x2D-7E. */
  private static boolean isPrintable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x21 || c > 0x7e || c == ',') {
        return false;
      }
    }
    return true;
  }

  /** A character as PgBouncer quotes it in its log: {@code 'x'} if printable, else {@code 0x1f}. */
  private static String sanitize(char c) {
    return c >= 0x21 && c <= 0x7e ? "'" + c + "'" : String.format("0x%02x", (int) c);
  }

  private static ScramException malformed(String detail) {
    return new ScramException(Kind.MALFORMED_MESSAGE, "malformed SCRAM message (" + detail + ")");
  }

  private static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static <T> T requireSet(@Nullable T value) {
    if (value == null) {
      throw new IllegalStateException("serverFirstMessage has not succeeded");
    }
    return value;
  }

  /**
   * Reads {@code name=value} attributes separated by commas. A value runs to the next comma, which
   * is consumed with it.
   */
  private static final class Cursor {
    final String text;
    int pos;

    Cursor(String text) {
      this.text = text;
    }

    boolean atEnd() {
      return pos >= text.length();
    }

    /** The next character, or NUL at the end (as C sees its terminator). */
    char peek() {
      return atEnd() ? '\0' : text.charAt(pos);
    }

    void skip() {
      pos++;
    }

    String attribute(char name) {
      if (peek() != name) {
        throw malformed("attribute \"" + name + "\" expected");
      }
      skip();
      if (peek() != '=') {
        throw malformed("expected \"=\" after attribute \"" + name + "\"");
      }
      skip();
      return value();
    }

    String anyAttribute() {
      char name = peek();
      if (!(name >= 'A' && name <= 'Z' || name >= 'a' && name <= 'z')) {
        throw malformed(
            "attribute expected, but found invalid character \"" + sanitize(name) + "\"");
      }
      skip();
      if (peek() != '=') {
        throw malformed("expected character \"=\" after attribute \"" + name + "\"");
      }
      skip();
      return value();
    }

    /** A message that ends in a comma promised another attribute and did not send it. */
    void requireNoDanglingComma(String what) {
      if (text.endsWith(",")) {
        throw malformed("garbage at the end of " + what);
      }
    }

    private String value() {
      int end = text.indexOf(',', pos);
      if (end < 0) {
        end = text.length();
      }
      String value = text.substring(pos, end);
      pos = Math.min(end + 1, text.length());
      return value;
    }
  }
}

package io.jbouncer.protocol.auth;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The client side of one SCRAM-SHA-256 exchange, as jbouncer logs in to a server: {@link
 * #clientFirstMessage} goes in SASLInitialResponse, {@link #clientFinalMessage} answers
 * AuthenticationSASLContinue, {@link #verifyServerFinal} checks AuthenticationSASLFinal. No channel
 * binding (gs2 header {@code n,,}); the user name is sent empty, as libpq does, since PostgreSQL
 * takes it from the startup packet. See <a
 * href="https://www.postgresql.org/docs/current/sasl-authentication.html">SASL authentication</a>
 * and <a href="https://www.rfc-editor.org/rfc/rfc5802">RFC 5802</a>.
 *
 * <p>Made {@link #withPassword}, {@link #clientFinalMessage} runs PBKDF2 for the server's iteration
 * count: call it off the event loop. Made {@link #withKeys} (the keys PgBouncer takes from a
 * client's own SCRAM login to pass through), nothing is slow. One instance serves one exchange, in
 * order, from one thread at a time.
 */
public final class ScramClient {
  /**
   * The largest iteration count accepted from a server, so that a hostile or broken server cannot
   * make us run PBKDF2 for minutes. The bound pgjdbc, libpq's proposal, rust-postgres and
   * node-postgres chose; PostgreSQL's default is 4096.
   */
  public static final int MAX_ITERATIONS = 100_000;

  private static final String GS2_HEADER = "n,,";
  private static final String CHANNEL_BINDING =
      "c=" + ScramSha256.base64(GS2_HEADER.getBytes(StandardCharsets.US_ASCII));
  private static final int QUOTE_LIMIT = 64;

  private enum State {
    START,
    FIRST_SENT,
    FINAL_SENT,
    VERIFIED,
    FAILED
  }

  private final byte @Nullable [] preparedPassword;
  private final SaltedPasswords saltedPasswords;
  private final byte @Nullable [] clientKey;
  private final byte @Nullable [] serverKey;
  private final String clientNonce;
  private final String clientFirstMessageBare;
  private byte @Nullable [] expectedServerSignature;
  private State state = State.START;

  private ScramClient(
      byte @Nullable [] preparedPassword,
      SaltedPasswords saltedPasswords,
      byte @Nullable [] clientKey,
      byte @Nullable [] serverKey,
      String username,
      String clientNonce) {
    this.preparedPassword = preparedPassword;
    this.saltedPasswords = saltedPasswords;
    this.clientKey = clientKey;
    this.serverKey = serverKey;
    this.clientNonce = clientNonce;
    this.clientFirstMessageBare = "n=" + saslName(username) + ",r=" + clientNonce;
  }

  /** A client that proves it knows {@code password} (SASLprep-ed as PostgreSQL does). */
  public static ScramClient withPassword(String password) {
    return withPassword(password, SaltedPasswords.COMPUTE);
  }

  /** The same, with the SaltedPassword taken from {@code saltedPasswords} (a cache, say). */
  public static ScramClient withPassword(String password, SaltedPasswords saltedPasswords) {
    return new ScramClient(
        ScramSha256.saslPrep(password), saltedPasswords, null, null, "", ScramSha256.nonce());
  }

  /**
   * A client that proves it knows the password from the keys alone: the proof comes from {@code
   * clientKey}, the server's signature is checked with {@code serverKey}.
   */
  public static ScramClient withKeys(byte[] clientKey, byte[] serverKey) {
    return withKeys(clientKey, serverKey, "", ScramSha256.nonce());
  }

  /** For tests: a fixed user name (RFC 5802 sends one, PostgreSQL ignores it) and nonce. */
  static ScramClient withPassword(String password, String username, String clientNonce) {
    return new ScramClient(
        ScramSha256.saslPrep(password), SaltedPasswords.COMPUTE, null, null, username, clientNonce);
  }

  /** For tests: a fixed user name and nonce. */
  static ScramClient withKeys(
      byte[] clientKey, byte[] serverKey, String username, String clientNonce) {
    requireKeyLength(clientKey, "ClientKey");
    requireKeyLength(serverKey, "ServerKey");
    return new ScramClient(
        null, SaltedPasswords.COMPUTE, clientKey.clone(), serverKey.clone(), username, clientNonce);
  }

  public String mechanism() {
    return ScramSha256.MECHANISM;
  }

  /** The client-first-message: {@code n,,n=,r=<nonce>}. */
  public byte[] clientFirstMessage() {
    advance(State.START, State.FIRST_SENT, "clientFirstMessage");
    return utf8(GS2_HEADER + clientFirstMessageBare);
  }

  /**
   * The client-final-message answering the server-first-message: {@code
   * c=biws,r=<nonce>,p=<proof>}.
   *
   * @throws ScramException if the server-first-message is malformed: a nonce that does not extend
   *     ours, a salt that is not base64, an iteration count outside 1..{@link #MAX_ITERATIONS}, a
   *     mandatory extension, an error, or anything after the iteration count
   */
  public byte[] clientFinalMessage(byte[] serverFirstMessage) {
    advance(State.FIRST_SENT, State.FAILED, "clientFinalMessage");
    String message = new String(serverFirstMessage, StandardCharsets.UTF_8);
    rejectError(message, "server-first-message");
    if (message.startsWith("m=")) {
      throw new ScramException("server-first-message: mandatory extension (m=) not supported");
    }
    String[] attributes = message.split(",", -1);
    if (attributes.length != 3) {
      throw new ScramException(
          "server-first-message: "
              + quote(message)
              + " (expected: r=<nonce>,s=<salt>,i=<iterations>)");
    }
    String serverNonce = attribute(attributes[0], 'r');
    byte[] salt = parseSalt(attribute(attributes[1], 's'));
    int iterations = parseIterations(attribute(attributes[2], 'i'));
    checkNonce(serverNonce);

    byte[] clientKey = this.clientKey;
    byte[] serverKey = this.serverKey;
    if (clientKey == null || serverKey == null) {
      byte[] saltedPassword =
          saltedPasswords.saltedPassword(requireNonNull(preparedPassword), salt, iterations);
      clientKey = ScramSha256.clientKey(saltedPassword);
      serverKey = ScramSha256.serverKey(saltedPassword);
    }
    String clientFinalWithoutProof = CHANNEL_BINDING + ",r=" + serverNonce;
    byte[] authMessage =
        concat(
            utf8(clientFirstMessageBare + ","),
            serverFirstMessage, // all ASCII once parsed, but hashed as the server sent it
            utf8("," + clientFinalWithoutProof));
    byte[] clientSignature = ScramSha256.hmac(ScramSha256.storedKey(clientKey), authMessage);
    byte[] proof = ScramSha256.xor(clientKey, clientSignature);
    expectedServerSignature = ScramSha256.hmac(serverKey, authMessage);
    state = State.FINAL_SENT;
    return utf8(clientFinalWithoutProof + ",p=" + ScramSha256.base64(proof));
  }

  /**
   * Checks the server-final-message {@code v=<signature>}: the server proves it knows the password
   * too. Compared in constant time.
   *
   * @throws ScramException if the server reports an error ({@code e=}), the message is malformed,
   *     or the signature is wrong
   */
  public void verifyServerFinal(byte[] serverFinalMessage) {
    advance(State.FINAL_SENT, State.FAILED, "verifyServerFinal");
    String message = new String(serverFinalMessage, StandardCharsets.UTF_8);
    rejectError(message, "server-final-message");
    String value = attribute(message, 'v');
    if (value.indexOf(',') >= 0) {
      throw new ScramException(
          "server-final-message: " + quote(message) + " (expected: v=<signature> alone)");
    }
    byte[] signature;
    try {
      signature = ScramSha256.fromBase64(value);
    } catch (IllegalArgumentException e) {
      throw new ScramException("server signature: " + quote(value) + " (expected: base64)");
    }
    if (signature.length != ScramSha256.KEY_LENGTH) {
      throw new ScramException(
          "server signature length: "
              + signature.length
              + " (expected: "
              + ScramSha256.KEY_LENGTH
              + ")");
    }
    if (!ScramSha256.constantTimeEquals(signature, requireNonNull(expectedServerSignature))) {
      throw new ScramException(
          ScramException.Kind.AUTHENTICATION_FAILED,
          "server signature does not match: the server does not know the key");
    }
    state = State.VERIFIED;
  }

  private void advance(State from, State to, String step) {
    if (state != from) {
      throw new IllegalStateException(step + " in state " + state + " (expected: " + from + ")");
    }
    state = to; // FAILED until the step completes
  }

  private void checkNonce(String serverNonce) {
    if (!serverNonce.startsWith(clientNonce)) {
      throw new ScramException(
          "server nonce: " + quote(serverNonce) + " (expected: to start with " + clientNonce + ")");
    }
    if (serverNonce.length() == clientNonce.length()) {
      throw new ScramException(
          "server nonce: " + quote(serverNonce) + " (expected: longer than the client nonce)");
    }
    for (int i = 0; i < serverNonce.length(); i++) {
      char c = serverNonce.charAt(i);
      if (c < 0x21 || c > 0x7e) { // commas cannot occur: the attributes were split on them
        throw new ScramException(
            "server nonce character: 0x" + Integer.toHexString(c) + " (expected: printable ASCII)");
      }
    }
  }

  private static byte[] parseSalt(String base64) {
    byte[] salt;
    try {
      salt = ScramSha256.fromBase64(base64);
    } catch (IllegalArgumentException e) {
      throw new ScramException("server salt: " + quote(base64) + " (expected: base64)");
    }
    if (salt.length == 0) {
      throw new ScramException("server salt: empty (expected: base64 of at least one byte)");
    }
    return salt;
  }

  private static int parseIterations(String text) {
    int iterations = ScramSecret.parseIterations(text);
    if (iterations < 1 || iterations > MAX_ITERATIONS) {
      throw new ScramException(
          "server iteration count: " + quote(text) + " (expected: 1.." + MAX_ITERATIONS + ")");
    }
    return iterations;
  }

  private static void rejectError(String message, String what) {
    if (message.startsWith("e=")) {
      throw new ScramException(what + ": server error: " + quote(message.substring(2)));
    }
  }

  private static String attribute(String text, char name) {
    if (text.length() < 2 || text.charAt(0) != name || text.charAt(1) != '=') {
      throw new ScramException("SCRAM attribute: " + quote(text) + " (expected: " + name + "=...)");
    }
    return text.substring(2);
  }

  /** RFC 5802 saslname: {@code =} and {@code ,} escaped. */
  private static String saslName(String username) {
    return username.replace("=", "=3D").replace(",", "=2C");
  }

  private static String quote(String text) {
    return text.length() <= QUOTE_LIMIT
        ? '"' + text + '"'
        : '"' + text.substring(0, QUOTE_LIMIT) + "\"... (" + text.length() + " characters)";
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] part : parts) {
      length += part.length;
    }
    byte[] result = new byte[length];
    int offset = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, result, offset, part.length);
      offset += part.length;
    }
    return result;
  }

  private static <T> T requireNonNull(@Nullable T value) {
    if (value == null) {
      throw new IllegalStateException("made with neither a password nor keys");
    }
    return value;
  }

  private static void requireKeyLength(byte[] key, String name) {
    if (key.length != ScramSha256.KEY_LENGTH) {
      throw new IllegalArgumentException(
          name + " length: " + key.length + " (expected: " + ScramSha256.KEY_LENGTH + ")");
    }
  }
}

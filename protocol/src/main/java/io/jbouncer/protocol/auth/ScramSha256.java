package io.jbouncer.protocol.auth;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;

/**
 * The SCRAM-SHA-256 primitives of <a href="https://www.rfc-editor.org/rfc/rfc5802">RFC 5802</a> and
 * <a href="https://www.rfc-editor.org/rfc/rfc7677">RFC 7677</a>, as PostgreSQL uses them. See <a
 * href="https://www.postgresql.org/docs/current/sasl-authentication.html">SASL authentication</a>.
 *
 * <p>{@link #saltedPassword} runs PBKDF2 for the given number of iterations and takes milliseconds:
 * call it off the event loops. Everything else is cheap. All methods are thread-safe.
 */
public final class ScramSha256 {
  public static final String MECHANISM = "SCRAM-SHA-256";

  /** Bytes in every key, proof and signature (one SHA-256 digest). */
  public static final int KEY_LENGTH = 32;

  /** PostgreSQL's default {@code scram_iterations}. */
  public static final int DEFAULT_ITERATIONS = 4096;

  /** PostgreSQL's salt length for new secrets. */
  public static final int DEFAULT_SALT_LENGTH = 16;

  /** Random bytes in a nonce, as libpq and PgBouncer use (24 base64 characters). */
  static final int NONCE_LENGTH = 18;

  private static final String HMAC = "HmacSHA256";
  private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.US_ASCII);
  private static final SecureRandom RANDOM = new SecureRandom();

  private ScramSha256() {}

  /**
   * {@code Hi(Normalize(password), salt, i)}: PBKDF2-HMAC-SHA-256 of the {@link #saslPrep prepared}
   * password. Slow by design.
   */
  public static byte[] saltedPassword(String password, byte[] salt, int iterations) {
    return saltedPassword(saslPrep(password), salt, iterations);
  }

  /**
   * {@code Hi(password, salt, i)}: PBKDF2-HMAC-SHA-256 with one output block, of a password already
   * prepared with {@link #saslPrep}. Slow by design. Written with {@link Mac} rather than {@code
   * SecretKeyFactory} because the password is bytes (possibly not UTF-8, possibly empty), not
   * characters.
   */
  public static byte[] saltedPassword(byte[] preparedPassword, byte[] salt, int iterations) {
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations: " + iterations + " (expected: >= 1)");
    }
    Mac mac = mac(preparedPassword);
    mac.update(salt);
    mac.update(new byte[] {0, 0, 0, 1}); // INT(1): the first and only block
    byte[] u = mac.doFinal();
    byte[] result = u.clone();
    try {
      for (int i = 1; i < iterations; i++) {
        mac.update(u);
        mac.doFinal(u, 0);
        for (int j = 0; j < KEY_LENGTH; j++) {
          result[j] ^= u[j];
        }
      }
    } catch (ShortBufferException e) {
      throw new IllegalStateException("HMAC-SHA-256 output is " + KEY_LENGTH + " bytes", e);
    }
    return result;
  }

  /** {@code HMAC(key, data)} with SHA-256. */
  public static byte[] hmac(byte[] key, byte[] data) {
    return mac(key).doFinal(data);
  }

  /** {@code H(data)}: SHA-256. */
  public static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** {@code ClientKey = HMAC(SaltedPassword, "Client Key")}. */
  public static byte[] clientKey(byte[] saltedPassword) {
    return hmac(saltedPassword, CLIENT_KEY);
  }

  /** {@code StoredKey = H(ClientKey)}. */
  public static byte[] storedKey(byte[] clientKey) {
    return sha256(clientKey);
  }

  /** {@code ServerKey = HMAC(SaltedPassword, "Server Key")}. */
  public static byte[] serverKey(byte[] saltedPassword) {
    return hmac(saltedPassword, SERVER_KEY);
  }

  /** {@code a XOR b}, for arrays of the same length. */
  public static byte[] xor(byte[] a, byte[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("xor of " + a.length + " and " + b.length + " bytes");
    }
    byte[] result = new byte[a.length];
    for (int i = 0; i < a.length; i++) {
      result[i] = (byte) (a[i] ^ b[i]);
    }
    return result;
  }

  /** Compares in time that does not depend on where the arrays differ. */
  public static boolean constantTimeEquals(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  /** Standard base64 with padding, as SCRAM and PostgreSQL's secrets use it. */
  public static String base64(byte[] data) {
    return Base64.getEncoder().encodeToString(data);
  }

  /**
   * Decodes standard base64.
   *
   * @throws IllegalArgumentException if {@code text} is not base64
   */
  public static byte[] fromBase64(String text) {
    return Base64.getDecoder().decode(text);
  }

  /** A fresh client nonce: 18 random bytes, base64 (printable, without commas). */
  public static String nonce() {
    return base64(randomBytes(NONCE_LENGTH));
  }

  /** A fresh salt for a new secret ({@link #DEFAULT_SALT_LENGTH} random bytes). */
  public static byte[] randomSalt() {
    return randomBytes(DEFAULT_SALT_LENGTH);
  }

  /** {@link #saslPrep(byte[])} of the UTF-8 bytes of {@code password}. */
  public static byte[] saslPrep(String password) {
    return saslPrep(password.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * SASLprep (<a href="https://www.rfc-editor.org/rfc/rfc4013">RFC 4013</a>) the way PostgreSQL
   * applies it to passwords, simplified. PostgreSQL treats a password as bytes and falls back to
   * those raw bytes whenever SASLprep fails, so a failure here is never an error:
   *
   * <ol>
   *   <li>bytes that are not valid UTF-8: used raw;
   *   <li>pure ASCII: used as is (PostgreSQL's fast path; control characters included);
   *   <li>otherwise: non-ASCII spaces become U+0020, the characters "commonly mapped to nothing"
   *       are removed, the result is NFKC-normalized; if it then holds a prohibited character
   *       (control, format, private use, surrogate, unassigned, ...) or breaks the bidirectional
   *       rule, the raw bytes are used, else the normalized UTF-8.
   * </ol>
   *
   * <p>The simplification: "unassigned" and the character classes come from the JDK's Unicode
   * version rather than the Unicode 3.2 tables of RFC 3454, and the prohibited list is approximated
   * by character categories. For a password built from characters that exist in Unicode 3.2 the
   * result matches PostgreSQL's; one that mixes newer characters (emoji, say) with characters NFKC
   * changes (full-width letters, say) is normalized here but used raw by PostgreSQL, and fails to
   * log in.
   */
  public static byte[] saslPrep(byte[] password) {
    if (isAscii(password)) {
      return password.clone();
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(password))
              .toString();
    } catch (CharacterCodingException e) {
      return password.clone();
    }
    StringBuilder mapped = new StringBuilder(text.length());
    text.codePoints()
        .forEach(
            cp -> {
              if (isNonAsciiSpace(cp)) {
                mapped.append(' ');
              } else if (!isMappedToNothing(cp)) {
                mapped.appendCodePoint(cp);
              }
            });
    String normalized = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
    if (isProhibited(normalized) || !followsBidiRule(normalized)) {
      return password.clone();
    }
    return normalized.getBytes(StandardCharsets.UTF_8);
  }

  private static boolean isAscii(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0) {
        return false;
      }
    }
    return true;
  }

  /** RFC 3454 table C.1.2. */
  private static boolean isNonAsciiSpace(int cp) {
    return cp == 0x00A0
        || cp == 0x1680
        || cp >= 0x2000 && cp <= 0x200B
        || cp == 0x202F
        || cp == 0x205F
        || cp == 0x3000;
  }

  /** RFC 3454 table B.1. */
  private static boolean isMappedToNothing(int cp) {
    return cp == 0x00AD
        || cp == 0x034F
        || cp == 0x1806
        || cp >= 0x180B && cp <= 0x180D
        || cp >= 0x200B && cp <= 0x200D
        || cp == 0x2060
        || cp >= 0xFE00 && cp <= 0xFE0F
        || cp == 0xFEFF;
  }

  /**
   * Approximates RFC 4013 section 2.3 (RFC 3454 tables C.1.2 to C.9) and table A.1 with character
   * categories: nearly every format character (Cf) is either prohibited there or was unassigned in
   * Unicode 3.2.
   */
  private static boolean isProhibited(String s) {
    return s.codePoints()
        .anyMatch(
            cp ->
                switch (Character.getType(cp)) {
                  case Character.CONTROL,
                      Character.FORMAT,
                      Character.PRIVATE_USE,
                      Character.SURROGATE,
                      Character.UNASSIGNED, // includes the non-characters
                      Character.LINE_SEPARATOR,
                      Character.PARAGRAPH_SEPARATOR ->
                      true;
                  case Character.SPACE_SEPARATOR -> cp != ' ';
                  default ->
                      cp >= 0x2FF0 && cp <= 0x2FFB // C.7 ideographic description characters
                          || cp == 0xFFFC
                          || cp == 0xFFFD; // C.6 replacement characters
                });
  }

  /**
   * RFC 3454 section 6: a string with a right-to-left character has no left-to-right one and starts
   * and ends with a right-to-left one.
   */
  private static boolean followsBidiRule(String s) {
    boolean hasRtl = false;
    boolean hasLtr = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      hasRtl |= isRtl(cp);
      hasLtr |= Character.getDirectionality(cp) == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
      i += Character.charCount(cp);
    }
    if (!hasRtl) {
      return true;
    }
    return !hasLtr && isRtl(s.codePointAt(0)) && isRtl(s.codePointBefore(s.length()));
  }

  private static boolean isRtl(int cp) {
    byte d = Character.getDirectionality(cp);
    return d == Character.DIRECTIONALITY_RIGHT_TO_LEFT
        || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
  }

  static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  private static Mac mac(byte[] key) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new RawKey(key));
      return mac;
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("every Java platform has " + HMAC, e);
    }
  }

  /**
   * An HMAC key that may be empty (an empty password is still a password to PBKDF2), which {@code
   * SecretKeySpec} refuses.
   */
  private record RawKey(byte[] key) implements SecretKey {
    @Override
    public String getAlgorithm() {
      return HMAC;
    }

    @Override
    public String getFormat() {
      return "RAW";
    }

    @Override
    public byte[] getEncoded() {
      return key.clone();
    }
  }
}

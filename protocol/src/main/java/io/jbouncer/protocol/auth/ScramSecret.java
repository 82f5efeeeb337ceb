package io.jbouncer.protocol.auth;

import org.jspecify.annotations.Nullable;

/**
 * A SCRAM-SHA-256 secret as PostgreSQL stores it ({@code pg_authid.rolpassword}) and as {@code
 * userlist.txt} holds it: {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}, the
 * last three in base64. The arrays are held as given, not copied: nobody may change them. See <a
 * href="https://www.postgresql.org/docs/current/catalog-pg-authid.html">pg_authid</a>.
 */
public record ScramSecret(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
  private static final String PREFIX = ScramSha256.MECHANISM + "$";

  public ScramSecret {
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations: " + iterations + " (expected: >= 1)");
    }
    if (salt.length == 0) {
      throw new IllegalArgumentException("salt: empty");
    }
    requireKeyLength(storedKey, "StoredKey");
    requireKeyLength(serverKey, "ServerKey");
  }

  /**
   * Parses a stored secret; {@code null} if {@code secret} is not one (a plain-text or MD5
   * password, or a malformed secret), the way PgBouncer tells password types apart.
   */
  public static @Nullable ScramSecret parse(String secret) {
    if (!secret.startsWith(PREFIX)) {
      return null;
    }
    int colon = secret.indexOf(':', PREFIX.length());
    int dollar = secret.indexOf('$', colon + 1);
    int keyColon = secret.indexOf(':', dollar + 1);
    if (colon < 0 || dollar < 0 || keyColon < 0) {
      return null;
    }
    int iterations = parseIterations(secret.substring(PREFIX.length(), colon));
    byte[] salt = decode(secret.substring(colon + 1, dollar));
    byte[] storedKey = decode(secret.substring(dollar + 1, keyColon));
    byte[] serverKey = decode(secret.substring(keyColon + 1));
    if (iterations < 1
        || salt == null
        || salt.length == 0
        || storedKey == null
        || storedKey.length != ScramSha256.KEY_LENGTH
        || serverKey == null
        || serverKey.length != ScramSha256.KEY_LENGTH) {
      return null;
    }
    return new ScramSecret(iterations, salt, storedKey, serverKey);
  }

  /** Derives the secret PostgreSQL would store for {@code password}. Slow: runs PBKDF2. */
  public static ScramSecret fromPassword(String password, byte[] salt, int iterations) {
    return ScramKeys.derive(password, salt, iterations).toSecret(salt, iterations);
  }

  /** The stored form, {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}. */
  public String encode() {
    return PREFIX
        + iterations
        + ':'
        + ScramSha256.base64(salt)
        + '$'
        + ScramSha256.base64(storedKey)
        + ':'
        + ScramSha256.base64(serverKey);
  }

  /** A positive decimal int without sign or leading garbage, else -1. */
  static int parseIterations(String text) {
    if (text.isEmpty() || text.length() > 10) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value <= Integer.MAX_VALUE ? (int) value : -1;
  }

  private static byte @Nullable [] decode(String base64) {
    try {
      return ScramSha256.fromBase64(base64);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static void requireKeyLength(byte[] key, String name) {
    if (key.length != ScramSha256.KEY_LENGTH) {
      throw new IllegalArgumentException(
          name + " length: " + key.length + " (expected: " + ScramSha256.KEY_LENGTH + ")");
    }
  }
}

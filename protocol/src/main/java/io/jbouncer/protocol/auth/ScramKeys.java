package io.jbouncer.protocol.auth;

/**
 * The three SCRAM-SHA-256 keys one password gives for one salt and iteration count (<a
 * href="https://www.rfc-editor.org/rfc/rfc5802#section-3">RFC 5802 section 3</a>). Deriving them
 * runs PBKDF2 and takes milliseconds; holding them lets the proxy do it once per user and salt: a
 * plain-text password in the auth file becomes a {@link #toSecret secret} for client logins (as
 * PgBouncer caches its "ad hoc" secrets), and a {@link ScramClient#withKeys} for server logins
 * against a server whose salt does not change. The arrays are held as given, not copied: nobody may
 * change them.
 */
public record ScramKeys(byte[] clientKey, byte[] storedKey, byte[] serverKey) {
  public ScramKeys {
    requireKeyLength(clientKey, "ClientKey");
    requireKeyLength(storedKey, "StoredKey");
    requireKeyLength(serverKey, "ServerKey");
  }

  /** Derives the keys of {@code password} (SASLprep-ed as PostgreSQL does). Slow: runs PBKDF2. */
  public static ScramKeys derive(String password, byte[] salt, int iterations) {
    byte[] saltedPassword = ScramSha256.saltedPassword(password, salt, iterations);
    byte[] clientKey = ScramSha256.clientKey(saltedPassword);
    return new ScramKeys(
        clientKey, ScramSha256.storedKey(clientKey), ScramSha256.serverKey(saltedPassword));
  }

  /** The secret PostgreSQL would store for these keys: the same salt and iteration count. */
  public ScramSecret toSecret(byte[] salt, int iterations) {
    return new ScramSecret(iterations, salt, storedKey, serverKey);
  }

  private static void requireKeyLength(byte[] key, String name) {
    if (key.length != ScramSha256.KEY_LENGTH) {
      throw new IllegalArgumentException(
          name + " length: " + key.length + " (expected: " + ScramSha256.KEY_LENGTH + ")");
    }
  }
}

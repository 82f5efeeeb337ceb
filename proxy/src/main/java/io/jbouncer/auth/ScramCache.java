package io.jbouncer.auth;

import io.jbouncer.protocol.auth.SaltedPasswords;
import io.jbouncer.protocol.auth.ScramSecret;
import io.jbouncer.protocol.auth.ScramSha256;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * SaltedPasswords computed once per (password, salt, iterations): PBKDF2 at PostgreSQL's 4096
 * iterations costs milliseconds of CPU, and a connection storm must not pay it per login. Keys are
 * hashes of the password, never the password itself. Shared by every event loop and the auth
 * workers, hence concurrent; bounded by clearing when it grows past {@link #MAX_ENTRIES} (entries
 * are one per user and server salt, so this only triggers under abuse).
 */
public final class ScramCache implements SaltedPasswords {
  static final int MAX_ENTRIES = 100_000;
  private final ConcurrentHashMap<String, byte[]> salted = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Adhoc> adhoc = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();

  /** A user's ad-hoc secret and a hash of the password it was made from. */
  private record Adhoc(String passwordHash, ScramSecret secret) {}

  /** For the server logins' own passwords, which are right: computed once, then cached. */
  @Override
  public byte[] saltedPassword(byte[] preparedPassword, byte[] salt, int iterations) {
    byte[] cached = cached(preparedPassword, salt, iterations);
    if (cached != null) {
      return cached;
    }
    byte[] computed = ScramSha256.saltedPassword(preparedPassword, salt, iterations);
    remember(preparedPassword, salt, iterations, computed);
    return computed;
  }

  /**
   * For a password a client sent, which may be wrong: the cached value if this password was right
   * before, else PBKDF2 on the spot; {@link #remember} it once it proved right, so that wrong
   * passwords can neither fill the cache nor push the right ones out.
   */
  public byte[] saltedPasswordUncached(byte[] preparedPassword, byte[] salt, int iterations) {
    byte[] cached = cached(preparedPassword, salt, iterations);
    return cached != null ? cached : ScramSha256.saltedPassword(preparedPassword, salt, iterations);
  }

  public void remember(
      byte[] preparedPassword, byte[] salt, int iterations, byte[] saltedPassword) {
    if (salted.size() >= MAX_ENTRIES) {
      salted.clear();
    }
    salted.put(key(preparedPassword, salt, iterations), saltedPassword);
  }

  private byte @Nullable [] cached(byte[] preparedPassword, byte[] salt, int iterations) {
    return salted.get(key(preparedPassword, salt, iterations));
  }

  /**
   * The SCRAM secret jbouncer authenticates a client against when the auth_file holds a plain-text
   * password (PgBouncer's "ad-hoc" secret): random salt, {@code iterations}, derived once per user
   * and password. Call it from an auth worker: the first call costs PBKDF2.
   */
  public ScramSecret adhocSecret(String user, String password, int iterations) {
    String passwordHash =
        Base64.getEncoder()
            .encodeToString(ScramSha256.sha256(password.getBytes(StandardCharsets.UTF_8)));
    Adhoc cached = adhoc.get(user);
    if (cached != null
        && cached.passwordHash().equals(passwordHash)
        && cached.secret().iterations() == iterations) {
      return cached.secret();
    }
    byte[] salt = new byte[ScramSha256.DEFAULT_SALT_LENGTH];
    random.nextBytes(salt);
    ScramSecret secret = ScramSecret.fromPassword(password, salt, iterations);
    if (adhoc.size() >= MAX_ENTRIES) {
      adhoc.clear();
    }
    adhoc.put(user, new Adhoc(passwordHash, secret));
    return secret;
  }

  /** How many users have an ad-hoc secret (for tests). */
  public int adhocSecrets() {
    return adhoc.size();
  }

  /** How many SaltedPasswords are cached (for tests). */
  public int size() {
    return salted.size();
  }

  private static String key(byte[] preparedPassword, byte[] salt, int iterations) {
    Base64.Encoder b64 = Base64.getEncoder();
    return b64.encodeToString(ScramSha256.sha256(preparedPassword))
        + "$"
        + b64.encodeToString(salt)
        + "$"
        + iterations;
  }
}

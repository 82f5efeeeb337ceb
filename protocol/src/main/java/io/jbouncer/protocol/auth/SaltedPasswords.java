package io.jbouncer.protocol.auth;

/**
 * Where a SCRAM client gets its SaltedPassword, PBKDF2 over the password (milliseconds of CPU at
 * 4096 iterations). The proxy passes a caching implementation so that repeated logins with the same
 * password, salt and iteration count pay it once.
 */
@FunctionalInterface
public interface SaltedPasswords {
  /** Computes every time: {@link ScramSha256#saltedPassword(byte[], byte[], int)}. */
  SaltedPasswords COMPUTE = ScramSha256::saltedPassword;

  /** Hi(password, salt, iterations) for an already SASLprep-ed password. */
  byte[] saltedPassword(byte[] preparedPassword, byte[] salt, int iterations);
}

package io.jbouncer.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * PostgreSQL's MD5 password scheme: the stored secret is {@code "md5" + hex(md5(password + user))},
 * and the client answers a 4-byte salt with {@code "md5" + hex(md5(hex(secret) + salt))}. See <a
 * href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP">the
 * start-up flow</a>.
 */
public final class Md5Password {
  /** {@code "md5"} and 32 lowercase hex digits. */
  public static final int SECRET_LENGTH = 35;

  private static final String PREFIX = "md5";
  private static final HexFormat HEX = HexFormat.of();

  private Md5Password() {}

  /** The secret PostgreSQL stores for {@code user}: {@code "md5" + hex(md5(password + user))}. */
  public static String encode(String user, String password) {
    return PREFIX + HEX.formatHex(md5(utf8(password), utf8(user)));
  }

  /**
   * The response to an MD5 password request from a stored secret (what a client with the password
   * would send, without knowing it).
   *
   * @param md5Secret a secret as {@link #encode} makes it
   * @param salt the 4 bytes from AuthenticationMD5Password
   * @throws IllegalArgumentException if {@code md5Secret} is not an MD5 secret
   */
  public static String saltedResponse(String md5Secret, byte[] salt) {
    if (!isMd5Secret(md5Secret)) {
      throw new IllegalArgumentException(
          "MD5 secret: " + md5Secret.length() + " characters (expected: md5 and 32 hex digits)");
    }
    byte[] hex = md5Secret.substring(PREFIX.length()).getBytes(StandardCharsets.US_ASCII);
    return PREFIX + HEX.formatHex(md5(hex, salt));
  }

  /** The response a client with this password sends to an MD5 password request. */
  public static String clientResponse(String user, String password, byte[] salt) {
    return saltedResponse(encode(user, password), salt);
  }

  /** Whether {@code secret} is {@code "md5"} followed by 32 lowercase hex digits. */
  public static boolean isMd5Secret(String secret) {
    if (secret.length() != SECRET_LENGTH || !secret.startsWith(PREFIX)) {
      return false;
    }
    for (int i = PREFIX.length(); i < SECRET_LENGTH; i++) {
      char c = secret.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static byte[] md5(byte[] first, byte[] second) {
    MessageDigest md5;
    try {
      md5 = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has MD5", e);
    }
    md5.update(first);
    md5.update(second);
    return md5.digest();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}

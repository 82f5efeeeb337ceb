package io.jbouncer.auth;

import java.util.regex.Pattern;

/**
 * Classifies a stored password the way PgBouncer's auth_file does: plain, md5 hash or SCRAM secret.
 */
public final class Secrets {
  private static final Pattern MD5 = Pattern.compile("md5[0-9a-f]{32}");

  private Secrets() {}

  public static boolean isMd5(String secret) {
    return MD5.matcher(secret).matches();
  }

  public static boolean isScram(String secret) {
    return secret.startsWith("SCRAM-SHA-256$");
  }

  public static boolean isPlain(String secret) {
    return !isMd5(secret) && !isScram(secret);
  }
}

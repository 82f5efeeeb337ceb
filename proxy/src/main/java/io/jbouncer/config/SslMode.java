package io.jbouncer.config;

import java.util.Locale;

/** PgBouncer's {@code client_tls_sslmode} and {@code server_tls_sslmode}. */
public enum SslMode {
  DISABLE,
  ALLOW,
  PREFER,
  REQUIRE,
  VERIFY_CA,
  VERIFY_FULL;

  /** The value as PgBouncer prints it in SHOW CONFIG and accepts in pgbouncer.ini. */
  public String iniName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}

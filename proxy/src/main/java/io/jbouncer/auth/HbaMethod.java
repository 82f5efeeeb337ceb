package io.jbouncer.auth;

import org.jspecify.annotations.Nullable;

/**
 * The authentication methods an {@code auth_hba_file} rule may name: those PgBouncer's hba.c
 * parses. PostgreSQL's other methods (ident, gss, sspi, pam, radius, bsd, oauth) are refused when
 * the file is loaded, as PgBouncer refuses them.
 */
public enum HbaMethod {
  TRUST("trust", true),
  REJECT("reject", true),
  MD5("md5", true),
  /** Cleartext password; PgBouncer's {@code auth_type = plain}. */
  PASSWORD("password", true),
  SCRAM_SHA_256("scram-sha-256", true),
  CERT("cert", true),
  /** Unix-socket peer credentials; jbouncer cannot check them (yet). */
  PEER("peer", false),
  /** LDAP bind; jbouncer has no LDAP client. */
  LDAP("ldap", false);

  private final String hbaName;
  private final boolean supportedByJbouncer;

  HbaMethod(String hbaName, boolean supportedByJbouncer) {
    this.hbaName = hbaName;
    this.supportedByJbouncer = supportedByJbouncer;
  }

  /** The keyword as written in the file. */
  public String hbaName() {
    return hbaName;
  }

  /**
   * Whether jbouncer can perform this method. A rule with an unsupported method loads (PgBouncer
   * accepts it) but the proxy must refuse a client it matches, saying why, rather than pick another
   * method.
   */
  public boolean supportedByJbouncer() {
    return supportedByJbouncer;
  }

  static @Nullable HbaMethod byName(String name) {
    for (HbaMethod method : values()) {
      if (method.hbaName.equals(name)) {
        return method;
      }
    }
    return null;
  }
}

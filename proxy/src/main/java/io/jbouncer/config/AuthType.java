package io.jbouncer.config;

/** How clients authenticate to jbouncer (PgBouncer's {@code auth_type}). */
public enum AuthType {
  ANY("any"),
  TRUST("trust"),
  PLAIN("plain"),
  MD5("md5"),
  SCRAM_SHA_256("scram-sha-256"),
  CERT("cert"),
  HBA("hba"),
  PAM("pam"),
  LDAP("ldap");

  private final String iniName;

  AuthType(String iniName) {
    this.iniName = iniName;
  }

  public String iniName() {
    return iniName;
  }
}

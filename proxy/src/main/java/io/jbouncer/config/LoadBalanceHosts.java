package io.jbouncer.config;

import java.util.Locale;

/** How a {@code [databases]} entry with several hosts picks one for a new server connection. */
public enum LoadBalanceHosts {
  /** Each new connection takes the next host of the list. */
  ROUND_ROBIN,
  /** Stay on one host until a connection to it fails, then move to the next. */
  DISABLE;

  /** The value as PgBouncer accepts it in a connection string. */
  public String iniName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}

package io.jbouncer.config;

/** A configuration problem, worded for the operator: file, line, key and what was expected. */
public final class ConfigError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigError(String message) {
    super(message, null, false, false);
  }
}

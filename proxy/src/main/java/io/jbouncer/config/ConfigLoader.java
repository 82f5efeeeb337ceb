package io.jbouncer.config;

import java.nio.file.Path;

/** Reads pgbouncer.ini (or HOCON) into {@link Settings}. */
public final class ConfigLoader {
  private ConfigLoader() {}

  /**
   * Loads and validates {@code file}: {@code .ini} files in PgBouncer's format, anything else as HOCON.
   *
   * @throws ConfigError with a message naming file, line and key
   */
  public static Settings load(Path file) {
    throw new UnsupportedOperationException("TODO: config helper");
  }
}

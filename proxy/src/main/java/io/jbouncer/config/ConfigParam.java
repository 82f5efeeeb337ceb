package io.jbouncer.config;

/**
 * One {@code [pgbouncer]} key as the admin console's {@code SHOW CONFIG} prints it.
 *
 * @param value the effective value, normalized the way PgBouncer prints it (seconds for times, 0/1
 *     for switches, "" for "not set")
 * @param defaultValue the value from {@code reference.conf}
 * @param changeable false for keys that RELOAD and {@code SET} leave alone (PgBouncer's
 *     CF_NO_RELOAD)
 */
public record ConfigParam(String key, String value, String defaultValue, boolean changeable) {}

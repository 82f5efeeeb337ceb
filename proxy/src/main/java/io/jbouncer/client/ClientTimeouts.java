package io.jbouncer.client;

import io.jbouncer.config.DatabaseSettings;
import io.jbouncer.config.Settings;
import io.jbouncer.config.UserSettings;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A client's timeouts in nanoseconds, 0 = off, resolved once at login with PgBouncer's precedence:
 * {@code [users]} over {@code [databases]} (query_wait_timeout only) over {@code [pgbouncer]}.
 */
record ClientTimeouts(
    long query, long queryWait, long clientIdle, long idleTransaction, long transaction) {

  static ClientTimeouts resolve(
      Settings settings, @Nullable UserSettings user, @Nullable DatabaseSettings database) {
    Duration queryWait =
        first(
            user != null ? user.queryWaitTimeout() : null,
            database != null ? database.queryWaitTimeout() : null,
            settings.queryWaitTimeout());
    return new ClientTimeouts(
        nanos(first(user != null ? user.queryTimeout() : null, settings.queryTimeout())),
        nanos(queryWait),
        nanos(first(user != null ? user.clientIdleTimeout() : null, settings.clientIdleTimeout())),
        nanos(
            first(
                user != null ? user.idleTransactionTimeout() : null,
                settings.idleTransactionTimeout())),
        nanos(
            first(user != null ? user.transactionTimeout() : null, settings.transactionTimeout())));
  }

  private static Duration first(@Nullable Duration... values) {
    for (Duration value : values) {
      if (value != null) {
        return value;
      }
    }
    return Duration.ZERO;
  }

  private static long nanos(Duration d) {
    return d.isNegative() ? 0 : d.toNanos();
  }
}

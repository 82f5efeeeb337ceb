package io.jbouncer.lifecycle;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.jbouncer.Pooler;
import io.jbouncer.config.ConfigError;
import io.jbouncer.config.ConfigLoader;
import io.jbouncer.config.ConfigParam;
import io.jbouncer.config.DatabaseSettings;
import io.jbouncer.config.Settings;
import java.nio.file.Path;
import java.util.Objects;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RELOAD (and SIGHUP) and the admin console's SET: a new settings tree, checked whole before any of
 * it applies; a broken one is rejected and the running settings stay in force.
 *
 * <p>What applies at once: databases (added, removed, changed: servers of a changed one are closed
 * once released, as after RECONNECT), pool sizes and modes, caps, timeouts of connected clients,
 * users, {@code auth_file}. Keys PgBouncer cannot change at runtime (listening, unix sockets,
 * {@code pkt_buf}...) keep their running values, and saying so is logged. Each change is logged as
 * {@code key: old -> new}.
 *
 * <p>Threading: one reload or SET at a time (synchronized); the file is read on the caller's
 * thread, which must not be an event loop.
 */
public final class Reloader {
  private static final Logger log = LoggerFactory.getLogger(Reloader.class);
  private static final String PGBOUNCER = "jbouncer.pgbouncer.";

  private final Pooler pooler;
  private final @Nullable Path file;
  private @Nullable Config tree; // what the running settings were built from, SETs included

  /** For the settings jbouncer started with; {@code file} null when they came from no file. */
  public Reloader(Pooler pooler, @Nullable Path file) {
    this.pooler = pooler;
    this.file = file;
    Config loaded = null;
    if (file != null) {
      try {
        loaded = ConfigLoader.readTree(file);
      } catch (ConfigError e) {
        log.warn("cannot read {} again for SET: {}", file, e.getMessage());
      }
    }
    this.tree = loaded;
  }

  /** Re-reads the config file and applies it; returns false if it was rejected (and logged). */
  public synchronized boolean reload() {
    if (file == null) {
      log.error("RELOAD failed: jbouncer was not started from a config file");
      return false;
    }
    try {
      apply(ConfigLoader.readTree(file));
      return true;
    } catch (ConfigError e) {
      log.error("RELOAD failed, keeping the running configuration: {}", e.getMessage());
      return false;
    }
  }

  /** SET key = value on {@code [pgbouncer]}; returns false if it was rejected (and logged). */
  public synchronized boolean set(String key, String value) {
    Config current = tree;
    if (current == null || file == null) {
      log.error("SET {}={} failed: jbouncer was not started from a config file", key, value);
      return false;
    }
    if (param(pooler.settings(), key) == null) {
      log.error("SET failed: unknown setting {}", key);
      return false;
    }
    try {
      apply(current.withValue(PGBOUNCER + key, ConfigValueFactory.fromAnyRef(value, "SET")));
      return true;
    } catch (ConfigError e) {
      log.error("SET {}={} failed: {}", key, value, e.getMessage());
      return false;
    }
  }

  /**
   * Checks {@code next} whole, then applies it; throws with the reason before changing anything.
   */
  private void apply(Config next) {
    Path source = Objects.requireNonNull(file);
    Settings old = pooler.settings();
    Config effective = next;
    Settings requested = ConfigLoader.build(next, source);
    // keys that cannot change at runtime keep the running value
    for (ConfigParam p : old.params()) {
      if (p.changeable()) {
        continue;
      }
      ConfigParam wanted = param(requested, p.key());
      if (wanted != null && !wanted.value().equals(p.value())) {
        log.warn(
            "{} cannot be changed at runtime: keeping {} (the file says {})",
            p.key(),
            shown(p.value()),
            shown(wanted.value()));
      }
      String path = PGBOUNCER + p.key();
      Config running = tree;
      effective =
          running != null && running.hasPath(path)
              ? effective.withValue(path, running.getValue(path))
              : effective.withoutPath(path);
    }
    Settings fresh = ConfigLoader.build(effective, source);
    // a broken auth_file or hba file rejects the whole reload
    Pooler.AuthFiles auth = Pooler.loadAuthFiles(fresh);
    logChanges(old, fresh);
    tree = next;
    pooler.reconfigure(fresh, auth);
  }

  private static void logChanges(Settings old, Settings fresh) {
    for (ConfigParam p : fresh.params()) {
      ConfigParam before = param(old, p.key());
      if (before != null && !before.value().equals(p.value())) {
        log.info("{}: {} -> {}", p.key(), shown(before.value()), shown(p.value()));
      }
    }
    TreeSet<String> names = new TreeSet<>(old.databases().keySet());
    names.addAll(fresh.databases().keySet());
    for (String name : names) {
      DatabaseSettings a = old.databases().get(name);
      DatabaseSettings b = fresh.databases().get(name);
      if (a == null) {
        log.info("database {} added", name);
      } else if (b == null) {
        log.info("database {} removed", name);
      } else if (!a.equals(b)) {
        log.info("database {} changed", name);
      }
    }
    if (!old.users().equals(fresh.users())) {
      log.info("[users] changed");
    }
  }

  private static String shown(String value) {
    return value.isEmpty() ? "\"\"" : value;
  }

  private static @Nullable ConfigParam param(Settings settings, String key) {
    for (ConfigParam p : settings.params()) {
      if (p.key().equals(key)) {
        return p;
      }
    }
    return null;
  }
}

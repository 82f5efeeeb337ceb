package io.jbouncer.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.nio.file.Path;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Reads pgbouncer.ini (or HOCON) into {@link Settings}.
 *
 * <p>Both formats become one Typesafe Config tree laid out like {@code reference.conf} ({@code
 * jbouncer.pgbouncer.<key>}, {@code jbouncer.databases.<name>.<param>}, {@code
 * jbouncer.users.<name>.<param>}), which falls back to {@code reference.conf} for every default and
 * is then checked value by value. See <a href="https://www.pgbouncer.org/config.html">PgBouncer's
 * configuration reference</a> for the keys.
 *
 * <p>Departures from PgBouncer, all in the operator's favour: an unknown {@code [pgbouncer]} key is
 * a logged warning, not a failed load; a malformed number is an error (PgBouncer's {@code atoi}
 * reads it as 0); relative paths ({@code %include}, {@code auth_file}, {@code auth_hba_file},
 * {@code auth_ident_file}, {@code logfile}, {@code pidfile}, TLS files) are resolved against the
 * config file's directory, not the working directory.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  /**
   * Loads and validates {@code file}: {@code .conf}, {@code .hocon} and {@code .json} files as
   * HOCON, anything else as PgBouncer's ini format.
   *
   * @throws ConfigError with a message naming file, line and key
   */
  public static Settings load(Path file) {
    return buildFrom(readTree(file), file);
  }

  /**
   * Reads {@code file} into a tree in {@code reference.conf}'s layout, without defaults: what
   * RELOAD and the admin console's SET work on before {@link #build} checks it.
   *
   * @throws ConfigError if it cannot be read or parsed
   */
  public static Config readTree(Path file) {
    return isHocon(file) ? readHocon(file) : IniReader.read(file);
  }

  /**
   * Builds and checks settings from a tree read by {@link #readTree} (possibly changed since);
   * relative paths are resolved against {@code file}'s directory.
   *
   * @throws ConfigError naming the bad key and value
   */
  public static Settings build(Config tree, Path file) {
    return buildFrom(tree, file);
  }

  /**
   * Builds settings from a tree in {@code reference.conf}'s layout, e.g. {@code
   * ConfigFactory.parseString("jbouncer.pgbouncer.listen_port = 0")}; missing keys take their
   * defaults. Relative paths stay relative to the working directory.
   *
   * @throws ConfigError naming the bad key and value
   */
  public static Settings fromConfig(Config config) {
    return buildFrom(config, null);
  }

  private static Settings buildFrom(Config user, @Nullable Path file) {
    try {
      // an explicit class loader: signal threads (SIGHUP) have no context class loader
      Config config =
          user.withFallback(ConfigFactory.defaultReference(ConfigLoader.class.getClassLoader()))
              .resolve();
      return SettingsReader.read(config, file);
    } catch (ConfigException e) {
      throw new ConfigError(e.getMessage());
    }
  }

  private static boolean isHocon(Path file) {
    Path name = file.getFileName();
    String s = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
    return s.endsWith(".conf") || s.endsWith(".hocon") || s.endsWith(".json");
  }

  private static Config readHocon(Path file) {
    // read it once ourselves for the same "cannot load config file" wording as for ini files
    IniReader.readLines(file, "cannot load config file: ");
    ConfigSyntax syntax =
        file.toString().toLowerCase(Locale.ROOT).endsWith(".json")
            ? ConfigSyntax.JSON
            : ConfigSyntax.CONF;
    try {
      return ConfigFactory.parseFile(
          file.toFile(), ConfigParseOptions.defaults().setSyntax(syntax).setAllowMissing(false));
    } catch (ConfigException e) {
      throw new ConfigError("cannot load config file: " + e.getMessage());
    }
  }
}

package io.jbouncer.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigOriginFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a pgbouncer.ini (with its {@code %include}s) into a Typesafe Config tree: {@code
 * jbouncer.pgbouncer.<key>}, {@code jbouncer.databases.<name>.<param>}, {@code
 * jbouncer.users.<name>.<param>}. Every value keeps the file and line it came from, so that {@link
 * SettingsReader} can name them in its errors. Values are stored as written (strings); checking
 * them is {@link SettingsReader}'s job, so ini and HOCON files get the same checks.
 *
 * <p>Syntax as PgBouncer's (lib/usual/cfparser.c): sections {@code [pgbouncer]}, {@code
 * [databases]}, {@code [users]}, {@code [peers]}; comment lines start with {@code ;} or {@code #}
 * (not recognized later in a line); {@code key = value} with blanks trimmed and no unquoting of the
 * value; keys may be quoted with {@code "..."} or {@code '...'} (doubled quote escapes one); a
 * section stays current across {@code %include}; the file must contain a {@code [pgbouncer]}
 * section. Unlike PgBouncer, a relative {@code %include} is resolved against the including file's
 * directory (PgBouncer: the working directory), and include loops are reported as such.
 */
final class IniReader {
  private static final Logger log = LoggerFactory.getLogger(IniReader.class);

  /** PgBouncer's MAX_INCLUDE: files included from included files, ten deep at most. */
  static final int MAX_INCLUDE_DEPTH = 10;

  private static final Set<String> SECTIONS = Set.of("pgbouncer", "databases", "users", "peers");

  private final Map<String, ConfigValue> pgbouncer = new LinkedHashMap<>();
  private final Map<String, ConfigObject> databases = new LinkedHashMap<>();
  private final Map<String, ConfigObject> users = new LinkedHashMap<>();

  /** Real paths of the files being read, outermost first, to detect include loops. */
  private final List<Path> including = new ArrayList<>();

  private @Nullable String section;
  private boolean sawMainSection;

  private IniReader() {}

  /**
   * @throws ConfigError for a missing file, a syntax error or an include problem
   */
  static Config read(Path file) {
    IniReader reader = new IniReader();
    reader.readFile(file, readLines(file, "cannot load config file: "));
    if (!reader.sawMainSection) {
      throw new ConfigError(file + ": main section [pgbouncer] missing from config file");
    }
    Map<String, Object> jbouncer = new LinkedHashMap<>();
    jbouncer.put("pgbouncer", reader.pgbouncer);
    jbouncer.put("databases", reader.databases);
    jbouncer.put("users", reader.users);
    return ConfigValueFactory.fromMap(Map.of("jbouncer", jbouncer)).toConfig();
  }

  private void readFile(Path file, List<String> lines) {
    including.add(realPath(file));
    for (int i = 0; i < lines.size(); i++) {
      readLine(file, i + 1, lines.get(i));
    }
    including.remove(including.size() - 1);
  }

  private void readLine(Path file, int lineNo, String raw) {
    String line = raw.strip();
    String where = file + ":" + lineNo;
    if (line.isEmpty() || line.startsWith(";") || line.startsWith("#")) {
      return;
    }
    if (line.startsWith("%include")
        && (line.length() == 8 || Character.isWhitespace(line.charAt(8)))) {
      include(file, where, line.substring(8).strip());
      return;
    }
    if (line.startsWith("[")) {
      int end = line.indexOf(']');
      if (end < 0 || !line.substring(end + 1).isBlank()) {
        throw new ConfigError(where + ": syntax error (expected: [section])");
      }
      String name = line.substring(1, end).strip();
      if (!SECTIONS.contains(name)) {
        throw new ConfigError(
            where
                + ": unknown section ["
                + name
                + "] (expected: pgbouncer, databases, users or peers)");
      }
      section = name;
      sawMainSection |= name.equals("pgbouncer");
      return;
    }

    StringBuilder key = new StringBuilder();
    int p = readKey(line, key);
    while (p >= 0 && p < line.length() && (line.charAt(p) == ' ' || line.charAt(p) == '\t')) {
      p++;
    }
    if (p < 0 || key.length() == 0 || p >= line.length() || line.charAt(p) != '=') {
      throw new ConfigError(where + ": syntax error (expected: key = value)");
    }
    String value = line.substring(p + 1).strip();
    String name = key.toString();
    ConfigOrigin origin = ConfigOriginFactory.newFile(file.toString()).withLineNumber(lineNo);
    if (section == null) {
      throw new ConfigError(where + ": " + name + " is outside of any section");
    }
    switch (section) {
      case "pgbouncer" ->
          pgbouncer.put(name, ConfigValueFactory.fromAnyRef(value).withOrigin(origin));
      case "databases" -> {
        String prefix = where + ": [databases] " + name + ": syntax error in connection string";
        databases.remove(name); // a later entry replaces the whole earlier one, as in PgBouncer
        databases.put(name, toObject(ConnString.parse(value, prefix), origin));
      }
      case "users" -> {
        String prefix = where + ": [users] " + name + ": syntax error in user settings";
        users.remove(name);
        users.put(name, toObject(ConnString.parse(value, prefix), origin));
      }
      default -> log.debug("{}: [peers] {} ignored: peering is not supported yet", where, name);
    }
  }

  /**
   * Reads a plain or quoted key into {@code key}; returns the index after it, -1 if unterminated.
   */
  private static int readKey(String line, StringBuilder key) {
    char first = line.charAt(0);
    if (first != '"' && first != '\'') {
      int p = 0;
      while (p < line.length()
          && line.charAt(p) != '='
          && !Character.isWhitespace(line.charAt(p))) {
        key.append(line.charAt(p++));
      }
      return p;
    }
    int p = 1;
    while (p < line.length()) {
      char c = line.charAt(p);
      if (c == first) {
        if (p + 1 < line.length() && line.charAt(p + 1) == first) {
          key.append(first);
          p += 2;
          continue;
        }
        return p + 1;
      }
      key.append(c);
      p++;
    }
    return -1;
  }

  private void include(Path from, String where, String name) {
    if (name.isEmpty()) {
      throw new ConfigError(where + ": %include: missing file name");
    }
    if (including.size() > MAX_INCLUDE_DEPTH) {
      throw new ConfigError(
          where
              + ": %include "
              + name
              + ": nesting too deep (expected: at most "
              + MAX_INCLUDE_DEPTH
              + " levels)");
    }
    Path dir = from.getParent();
    Path file = dir == null ? Path.of(name) : dir.resolve(name);
    List<String> lines = readLines(file, where + ": %include ");
    if (including.contains(realPath(file))) {
      throw new ConfigError(where + ": %include " + name + ": include loop");
    }
    readFile(file, lines);
  }

  private static ConfigObject toObject(Map<String, String> params, ConfigOrigin origin) {
    Map<String, ConfigValue> values = new LinkedHashMap<>();
    params.forEach((k, v) -> values.put(k, ConfigValueFactory.fromAnyRef(v).withOrigin(origin)));
    return ConfigValueFactory.fromMap(values).withOrigin(origin);
  }

  /**
   * The file's lines, UTF-8, without a byte order mark.
   *
   * @param errorPrefix what a failure message starts with; the path and the reason follow
   */
  static List<String> readLines(Path file, String errorPrefix) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigError(errorPrefix + file + ": " + ConfigError.reason(e));
    }
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    return text.lines().toList();
  }

  private static Path realPath(Path file) {
    try {
      return file.toRealPath();
    } catch (IOException e) {
      return file.toAbsolutePath().normalize();
    }
  }
}

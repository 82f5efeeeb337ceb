package io.jbouncer.auth;

import io.jbouncer.config.ConfigError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The rules of PgBouncer's {@code auth_hba_file}, used when {@code auth_type = hba}. Immutable.
 *
 * <p>The syntax is <a
 * href="https://www.postgresql.org/docs/current/auth-pg-hba-conf.html">pg_hba.conf</a>'s, cut down
 * to what PgBouncer's src/hba.c accepts (<a
 * href="https://www.pgbouncer.org/config.html#hba-file-format">PgBouncer docs</a>):
 *
 * <ul>
 *   <li>one record per line: {@code local DATABASE USER METHOD [OPTIONS]} or {@code
 *       host|hostssl|hostnossl DATABASE USER ADDRESS METHOD [OPTIONS]}; fields separated by blanks;
 *       {@code #} starts a comment outside quotes; no {@code hostgssenc}/{@code hostnogssenc}; no
 *       line continuation (PgBouncer reads line by line, so a trailing backslash is refused rather
 *       than silently misread);
 *   <li>database: {@code all}, {@code sameuser}, {@code replication}, names; user: {@code all},
 *       names; both take comma lists (blanks allowed around the commas), double-quoted names
 *       ({@code ""} is a quote; a quoted keyword is a plain name) and {@code @file}, a file of
 *       names separated by blanks or commas, relative to the including file's directory, which may
 *       itself use {@code @file}. Not supported, as in PgBouncer: {@code samerole}, {@code
 *       samegroup}, {@code +role} (a pooler does not know role membership);
 *   <li>address: {@code all}, {@code address/bits}, or an address and a netmask column, IPv4 or
 *       IPv6 (see {@link HbaAddress}); not {@code samehost}, {@code samenet} or host names;
 *   <li>method: see {@link HbaMethod}; {@code map=NAME} after cert and peer (the caller checks the
 *       name against {@code auth_ident_file}), {@code name=value} LDAP options after ldap.
 * </ul>
 *
 * <p>Matching is PgBouncer's {@code hba_eval}: the first rule whose type, address, database and
 * user match wins; no match means reject.
 *
 * <p>Deliberate differences: PgBouncer logs a warning for a line it cannot parse and skips it, so a
 * typo can silently drop a {@code reject} line; jbouncer refuses the whole file, naming the line
 * and what was expected. An address with bits outside its mask ({@code 10.0.0.1/8}), which
 * PgBouncer only warns about and then never matches, is also refused. {@code sameuser} and {@code
 * replication} in the user field are plain names, as in PostgreSQL (PgBouncer parses the user field
 * with the database keywords). {@code map=} is accepted only after cert and peer, as PostgreSQL
 * does.
 */
public final class HbaRules {
  /** Nesting limit for {@code @file} inside {@code @file}; also stops include cycles early. */
  private static final int MAX_INCLUDE_DEPTH = 10;

  private static final Set<String> LDAP_OPTIONS =
      Set.of(
          "ldapserver",
          "ldapport",
          "ldapscheme",
          "ldaptls",
          "ldapprefix",
          "ldapsuffix",
          "ldapbasedn",
          "ldapbinddn",
          "ldapbindpasswd",
          "ldapsearchattribute",
          "ldapsearchfilter",
          "ldapurl");

  private final List<HbaRule> rules;

  private HbaRules(List<HbaRule> rules) {
    this.rules = List.copyOf(rules);
  }

  /**
   * Reads an auth_hba_file.
   *
   * @throws ConfigError if the file cannot be read ({@code could not open auth_hba_file <path>:
   *     <why>}) or a line is wrong ({@code <path>:<line>: <what is wrong> (expected: ...)})
   */
  public static HbaRules load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigError("could not open auth_hba_file " + file + ": " + ConfigError.reason(e));
    }
    return parse(text, file.toString(), directoryOf(file));
  }

  /**
   * Parses the text of an auth_hba_file; {@code @file}s are read relative to the directory of
   * {@code fileName}, which also prefixes error messages.
   */
  public static HbaRules parse(String text, String fileName) {
    return parse(text, fileName, directoryOf(Path.of(fileName)));
  }

  private static HbaRules parse(String text, String fileName, Path directory) {
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    List<HbaRule> rules = new ArrayList<>();
    List<String> lines = text.lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      int lineNumber = i + 1;
      try {
        List<Field> fields = split(lines.get(i));
        if (!fields.isEmpty()) {
          rules.add(new LineParser(lineNumber, fields, directory).rule());
        }
      } catch (Problem e) {
        throw new ConfigError(fileName + ":" + lineNumber + ": " + e.getMessage());
      }
    }
    return new HbaRules(rules);
  }

  /**
   * The first rule for that connection, database and user; {@code null} if none, which means the
   * client must be rejected.
   */
  public @Nullable HbaRule match(HbaConnection connection, String database, String user) {
    for (HbaRule rule : rules) {
      if (rule.matches(connection, database, user)) {
        return rule;
      }
    }
    return null;
  }

  /** All rules, in file order. */
  public List<HbaRule> rules() {
    return rules;
  }

  private static Path directoryOf(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    return parent != null ? parent : Path.of("").toAbsolutePath();
  }

  /** A line-level problem; the caller adds file and line. */
  private static final class Problem extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Problem(String message) {
      super(message, null, false, false);
    }
  }

  /** A name, keyword or option; {@code quoted} if any part of it was in double quotes. */
  private record Token(String text, boolean quoted) {
    boolean isKeyword(String keyword) {
      return !quoted && text.equals(keyword);
    }
  }

  /** One blank-separated field: a comma list of tokens, and its text as written. */
  private record Field(List<Token> tokens, String raw) {}

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\u000B';
  }

  /** Splits a line into fields; empty for blank and comment lines. */
  private static List<Field> split(String line) {
    String trimmed = line.stripTrailing();
    if (trimmed.endsWith("\\")) {
      throw new Problem(
          "line continuation with a trailing backslash is not supported"
              + " (expected: one record per line, as PgBouncer reads it)");
    }
    List<Field> fields = new ArrayList<>();
    int n = line.length();
    int i = skipBlanks(line, 0);
    while (i < n && line.charAt(i) != '#') {
      int start = i;
      List<Token> tokens = new ArrayList<>();
      while (true) {
        StringBuilder text = new StringBuilder();
        boolean quoted = false;
        boolean empty = true;
        while (i < n) {
          char c = line.charAt(i);
          if (c == '"') {
            quoted = true;
            empty = false;
            i++;
            while (true) {
              if (i >= n) {
                throw new Problem(
                    "unterminated quoted string "
                        + line.substring(start).strip()
                        + " (expected: a closing \")");
              }
              char q = line.charAt(i++);
              if (q == '"') {
                if (i < n && line.charAt(i) == '"') {
                  text.append('"');
                  i++;
                } else {
                  break;
                }
              } else {
                text.append(q);
              }
            }
          } else if (isBlank(c) || c == ',' || c == '#') {
            break;
          } else {
            text.append(c);
            empty = false;
            i++;
          }
        }
        if (empty) {
          throw new Problem(
              "empty entry in list "
                  + line.substring(start, i).strip()
                  + " (expected: name[,name...])");
        }
        tokens.add(new Token(text.toString(), quoted));
        int next = skipBlanks(line, i);
        if (next < n && line.charAt(next) == ',') {
          i = skipBlanks(line, next + 1);
          continue;
        }
        break;
      }
      fields.add(new Field(List.copyOf(tokens), line.substring(start, i)));
      i = skipBlanks(line, i);
    }
    return fields;
  }

  private static int skipBlanks(String line, int i) {
    while (i < line.length() && isBlank(line.charAt(i))) {
      i++;
    }
    return i;
  }

  /** Parses one record. */
  private static final class LineParser {
    private final int lineNumber;
    private final List<Field> fields;
    private final Path directory;
    private int next;
    private String form = "";

    LineParser(int lineNumber, List<Field> fields, Path directory) {
      this.lineNumber = lineNumber;
      this.fields = fields;
      this.directory = directory;
    }

    HbaRule rule() {
      HbaRule.Type type = type(fields.get(next++));
      form =
          type.hbaName()
              + (type == HbaRule.Type.LOCAL
                  ? " DATABASE USER METHOD [OPTIONS]"
                  : " DATABASE USER ADDRESS METHOD [OPTIONS]");
      HbaNames databases = names(field("DATABASE"), true);
      HbaNames users = names(field("USER"), false);
      HbaAddress address = type == HbaRule.Type.LOCAL ? null : address(field("ADDRESS"));
      HbaMethod method = method(field("METHOD"));
      Map<String, String> options = options(method);
      return new HbaRule(lineNumber, type, databases, users, address, method, options);
    }

    private Field field(String what) {
      if (next >= fields.size()) {
        throw new Problem("missing " + what + " (expected: " + form + ")");
      }
      return fields.get(next++);
    }

    private static @Nullable String single(Field field) {
      return field.tokens().size() == 1 ? field.tokens().get(0).text() : null;
    }

    private static HbaRule.Type type(Field field) {
      if (field.tokens().size() == 1 && !field.tokens().get(0).quoted()) {
        String text = field.tokens().get(0).text();
        for (HbaRule.Type type : HbaRule.Type.values()) {
          if (type.hbaName().equals(text)) {
            return type;
          }
        }
      }
      throw new Problem(
          "unknown connection type \""
              + field.raw()
              + "\" (expected: local, host, hostssl or hostnossl)");
    }

    private HbaNames names(Field field, boolean database) {
      NameSet set = new NameSet(database);
      for (Token token : field.tokens()) {
        set.add(token, directory, new ArrayDeque<>());
      }
      return new HbaNames(field.raw(), set.all, set.sameUser, set.replication, set.names);
    }

    private HbaAddress address(Field field) {
      String text = single(field);
      if (text == null) {
        throw new Problem(
            "invalid address \""
                + field.raw()
                + "\" (expected: all, an IP address with /bits, or an IP address and a netmask)");
      }
      if (field.tokens().get(0).isKeyword("all")) {
        return HbaAddress.all();
      }
      String netmask = null;
      if (text.indexOf('/') < 0 && next < fields.size()) {
        Field maskField = fields.get(next++);
        netmask = single(maskField);
        if (netmask == null) {
          netmask = maskField.raw();
        }
      }
      try {
        return HbaAddress.parse(text, netmask);
      } catch (IllegalArgumentException e) {
        throw new Problem(e.getMessage());
      }
    }

    private static HbaMethod method(Field field) {
      HbaMethod method = null;
      if (field.tokens().size() == 1 && !field.tokens().get(0).quoted()) {
        method = HbaMethod.byName(field.tokens().get(0).text());
      }
      if (method == null) {
        throw new Problem(
            "unsupported authentication method \""
                + field.raw()
                + "\" (expected: trust, reject, md5, password, scram-sha-256, cert, peer or ldap)");
      }
      return method;
    }

    private Map<String, String> options(HbaMethod method) {
      Map<String, String> options = new LinkedHashMap<>();
      for (; next < fields.size(); next++) {
        Field field = fields.get(next);
        if (method != HbaMethod.CERT && method != HbaMethod.PEER && method != HbaMethod.LDAP) {
          throw new Problem(
              "unexpected \""
                  + field.raw()
                  + "\" after "
                  + method.hbaName()
                  + " (expected: end of line; only cert and peer take map=NAME,"
                  + " only ldap takes other options)");
        }
        String text = single(field);
        int eq = text == null ? -1 : text.indexOf('=');
        if (text == null || eq <= 0) {
          throw new Problem("invalid option \"" + field.raw() + "\" (expected: name=value)");
        }
        String name = text.substring(0, eq);
        String value = text.substring(eq + 1);
        if (method == HbaMethod.LDAP) {
          if (!LDAP_OPTIONS.contains(name)) {
            throw new Problem(
                "unknown ldap option \""
                    + name
                    + "\" (expected: one of "
                    + String.join(", ", LDAP_OPTIONS.stream().sorted().toList())
                    + ")");
          }
        } else if (!name.equals("map")) {
          throw new Problem(
              "unsupported option \""
                  + name
                  + "\" for "
                  + method.hbaName()
                  + " (expected: map=NAME, a map of auth_ident_file)");
        }
        if (value.isEmpty()) {
          throw new Problem("option " + name + " has no value (expected: " + name + "=value)");
        }
        if (options.putIfAbsent(name, value) != null) {
          throw new Problem("duplicate option " + name + " (expected: each option once)");
        }
      }
      return options;
    }
  }

  /** Collects the keywords and names of a database or user field, expanding {@code @file}s. */
  private static final class NameSet {
    final boolean database;
    final Set<String> names = new LinkedHashSet<>();
    boolean all;
    boolean sameUser;
    boolean replication;

    NameSet(boolean database) {
      this.database = database;
    }

    private String expected() {
      return database
          ? "all, sameuser, replication, database names or @file"
          : "all, user names or @file";
    }

    void add(Token token, Path directory, Deque<Path> including) {
      String text = token.text();
      if (!token.quoted()) {
        if (text.equals("all")) {
          all = true;
          return;
        }
        if (database && text.equals("sameuser")) {
          sameUser = true;
          return;
        }
        if (database && text.equals("replication")) {
          replication = true;
          return;
        }
        if (database && (text.equals("samerole") || text.equals("samegroup"))) {
          throw new Problem(
              text
                  + " is not supported: the pooler does not know role membership (expected: "
                  + expected()
                  + ")");
        }
        if (text.startsWith("+")) {
          throw new Problem(
              text
                  + ": role membership (+role) is not supported (expected: "
                  + expected()
                  + "; quote a name that starts with +)");
        }
        if (text.startsWith("@")) {
          include(text, directory, including);
          return;
        }
      }
      names.add(text);
    }

    private void include(String text, Path directory, Deque<Path> including) {
      String name = text.substring(1);
      if (name.isEmpty()) {
        throw new Problem("missing file name after @ (expected: @file)");
      }
      Path path = directory.resolve(name).normalize();
      if (including.contains(path)) {
        throw new Problem(text + ": " + path + " includes itself (expected: no @file cycle)");
      }
      if (including.size() >= MAX_INCLUDE_DEPTH) {
        throw new Problem(
            text
                + ": @file nested too deeply (expected: at most "
                + MAX_INCLUDE_DEPTH
                + " levels)");
      }
      List<String> lines;
      try {
        lines = Files.readString(path, StandardCharsets.UTF_8).lines().toList();
      } catch (IOException e) {
        throw new Problem(text + ": could not read " + path + ": " + ConfigError.reason(e));
      }
      including.push(path);
      Path parent = directoryOf(path);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (i == 0 && line.startsWith("\uFEFF")) {
          line = line.substring(1);
        }
        try {
          for (Field field : split(line)) {
            for (Token token : field.tokens()) {
              add(token, parent, including);
            }
          }
        } catch (Problem e) {
          throw new Problem(text + " line " + (i + 1) + ": " + e.getMessage());
        }
      }
      including.pop();
    }
  }
}

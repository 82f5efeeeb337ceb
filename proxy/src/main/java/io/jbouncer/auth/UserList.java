package io.jbouncer.auth;

import io.jbouncer.config.ConfigError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The users of PgBouncer's {@code auth_file} (userlist.txt) and their secrets. Immutable.
 *
 * <p>Format (<a href="https://www.pgbouncer.org/config.html#authentication-file-format">PgBouncer
 * docs</a>, src/loader.c {@code load_auth_file}): one user per line, {@code "name" "secret"}, the
 * rest of the line ignored; {@code ""} inside quotes stands for one {@code "}; lines starting with
 * {@code ;} are comments; blank lines are skipped. The secret is a plain password, {@code md5}
 * followed by 32 hex digits, or {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>};
 * it is kept as written and its kind is the authenticator's business. A user listed twice keeps the
 * last secret. Names are at most 127 bytes and secrets 65530 bytes in UTF-8 (PgBouncer's
 * MAX_USERNAME and MAX_PASSWORD, less the NUL).
 *
 * <p>One deliberate difference: PgBouncer logs "broken auth file" at the first malformed line and
 * silently ignores every user after it (and skips anything, even line breaks, between the two
 * quoted fields). jbouncer refuses the whole file instead, naming the line, so that no user
 * disappears unnoticed; on RELOAD the caller keeps the previous list, as PgBouncer keeps its old
 * config when a reload fails.
 */
public final class UserList {
  /** PgBouncer's MAX_USERNAME (128) less the terminating NUL. */
  static final int MAX_USER_NAME_BYTES = 127;

  /** PgBouncer's MAX_PASSWORD (65531) less the terminating NUL. */
  static final int MAX_SECRET_BYTES = 65530;

  private static final UserList EMPTY = new UserList(Map.of());

  private final Map<String, String> secrets;

  private UserList(Map<String, String> secrets) {
    this.secrets = secrets;
  }

  /**
   * True when {@code other} holds exactly the same users and secrets (a reload changed nothing).
   */
  public boolean sameAs(UserList other) {
    return secrets.equals(other.secrets);
  }

  /** No users: for {@code auth_type}s that need no file, or when {@code auth_file} is not set. */
  public static UserList empty() {
    return EMPTY;
  }

  /**
   * Reads an auth_file.
   *
   * @throws ConfigError if the file cannot be read ({@code could not open auth_file <path>: <why>})
   *     or a line is malformed ({@code <path>:<line>: broken auth file: <what is wrong>})
   */
  public static UserList load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigError("could not open auth_file " + file + ": " + ConfigError.reason(e));
    }
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    Map<String, String> secrets = new LinkedHashMap<>();
    List<String> lines = text.lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith(";")) {
        continue;
      }
      new LineParser(file + ":" + (i + 1), line).parseInto(secrets);
    }
    return new UserList(Collections.unmodifiableMap(secrets));
  }

  /** The stored secret of {@code user}, or {@code null} if the file does not list the user. */
  public @Nullable String secret(String user) {
    return secrets.get(user);
  }

  /** The users in file order. */
  public Set<String> users() {
    return secrets.keySet();
  }

  public int size() {
    return secrets.size();
  }

  /** Names the users only: secrets must not reach logs. */
  @Override
  public String toString() {
    return "UserList" + secrets.keySet();
  }

  /** One non-comment line: {@code "name" "secret" ...}. */
  private static final class LineParser {
    private final String where;
    private final String line;
    private int pos;

    LineParser(String where, String line) {
      this.where = where;
      this.line = line;
    }

    void parseInto(Map<String, String> secrets) {
      String name = quoted("user name");
      while (pos < line.length() && (line.charAt(pos) == ' ' || line.charAt(pos) == '\t')) {
        pos++;
      }
      String secret = quoted("password");
      checkLength("user name", name, MAX_USER_NAME_BYTES);
      checkLength("password", secret, MAX_SECRET_BYTES);
      secrets.put(name, secret);
    }

    /** A {@code "..."} field at {@code pos}, with {@code ""} unescaped. */
    private String quoted(String field) {
      if (pos >= line.length() || line.charAt(pos) != '"') {
        throw broken("expected a double-quoted " + field + " (comments start with ';')");
      }
      StringBuilder value = new StringBuilder();
      pos++;
      while (pos < line.length()) {
        char c = line.charAt(pos++);
        if (c != '"') {
          value.append(c);
        } else if (pos < line.length() && line.charAt(pos) == '"') {
          value.append('"');
          pos++;
        } else {
          return value.toString();
        }
      }
      throw broken("missing closing quote of the " + field);
    }

    private void checkLength(String field, String value, int max) {
      int bytes = value.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > max) {
        throw broken(field + " too long: " + bytes + " bytes (expected: at most " + max + ")");
      }
    }

    private ConfigError broken(String detail) {
      return new ConfigError(where + ": broken auth file: " + detail);
    }
  }
}

package io.jbouncer.client;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The statements PostgreSQL refuses while other sessions are connected to a database: {@code DROP
 * DATABASE y}, {@code CREATE DATABASE x TEMPLATE y} and {@code ALTER DATABASE y RENAME TO z} fail
 * with "database y is being accessed by other users" when the pooler holds idle connections to y
 * (Odoo's database manager duplicates and drops databases this way). jbouncer closes its idle
 * connections to y before forwarding such a statement; PostgreSQL waits up to five seconds for
 * their backends to exit.
 */
final class DatabaseCommands {
  private DatabaseCommands() {}

  /** The database a Query or Parse needs free of other sessions, or null (most: fast). */
  static @Nullable String databaseToFree(ByteBuf query) {
    int end = query.writerIndex() - 1; // before the NUL
    int at = SessionFeatures.sqlStart(query);
    while (at < end && Character.isWhitespace(query.getByte(at))) {
      at++;
    }
    if (at >= end) {
      return null;
    }
    int c = query.getByte(at) | 0x20;
    if (c != 'd' && c != 'c' && c != 'a') {
      return null; // neither DROP, CREATE nor ALTER
    }
    if (!secondWordIsDatabase(query, at, end)) {
      return null; // COMMIT, DELETE, CREATE TABLE...: no allocation
    }
    String text = query.toString(at, end - at, StandardCharsets.UTF_8);
    Tokens t = new Tokens(text);
    String verb = t.keyword();
    if (!t.keyword().equals("DATABASE")) {
      return null;
    }
    switch (verb) {
      case "DROP" -> {
        String name = t.identifier();
        if (name != null && name.equals("if") && t.peekKeyword("EXISTS")) {
          t.keyword();
          name = t.identifier();
        }
        return name;
      }
      case "ALTER" -> {
        String name = t.identifier();
        return t.keyword().equals("RENAME") ? name : null;
      }
      case "CREATE" -> {
        t.identifier(); // the new database
        String word;
        while (!(word = t.keyword()).isEmpty()) {
          if (word.equals("TEMPLATE")) {
            t.skip('=');
            return t.identifier();
          }
        }
        return null;
      }
      default -> {
        return null;
      }
    }
  }

  private static boolean secondWordIsDatabase(ByteBuf b, int at, int end) {
    while (at < end && Character.isLetter(b.getByte(at))) {
      at++;
    }
    while (at < end && Character.isWhitespace(b.getByte(at))) {
      at++;
    }
    String word = "database";
    if (end - at < word.length()) {
      return false;
    }
    for (int j = 0; j < word.length(); j++) {
      if ((b.getByte(at + j) | 0x20) != word.charAt(j)) {
        return false;
      }
    }
    return true;
  }

  /** Just enough of SQL's lexical rules for these statements' heads. */
  private static final class Tokens {
    private final String s;
    private int at;

    Tokens(String s) {
      this.s = s;
    }

    private void blanks() {
      while (at < s.length() && (Character.isWhitespace(s.charAt(at)) || s.charAt(at) == '=')) {
        at++;
      }
    }

    void skip(char c) {
      blanks();
      if (at < s.length() && s.charAt(at) == c) {
        at++;
      }
    }

    /** The next bare word upper-cased; "" at the end or before anything else. */
    String keyword() {
      blanks();
      int start = at;
      while (at < s.length() && (Character.isLetterOrDigit(s.charAt(at)) || s.charAt(at) == '_')) {
        at++;
      }
      if (at == start && at < s.length() && s.charAt(at) != ';') {
        // a quoted name, a string or punctuation: step over it, callers look for keywords only
        char quote = s.charAt(at++);
        if (quote == '"' || quote == '\'') {
          while (at < s.length()) {
            if (s.charAt(at++) == quote) {
              if (at < s.length() && s.charAt(at) == quote) {
                at++; // a doubled quote inside
              } else {
                break;
              }
            }
          }
        }
        return " ";
      }
      return s.substring(start, at).toUpperCase(Locale.ROOT);
    }

    boolean peekKeyword(String keyword) {
      int saved = at;
      boolean is = keyword().equals(keyword);
      at = saved;
      return is;
    }

    /** An identifier as PostgreSQL folds it: quoted as written, bare in lower case. */
    @Nullable String identifier() {
      blanks();
      if (at >= s.length()) {
        return null;
      }
      if (s.charAt(at) == '"') {
        StringBuilder name = new StringBuilder();
        at++;
        while (at < s.length()) {
          char c = s.charAt(at++);
          if (c == '"') {
            if (at < s.length() && s.charAt(at) == '"') {
              name.append('"');
              at++;
            } else {
              return name.toString();
            }
          } else {
            name.append(c);
          }
        }
        return null;
      }
      int start = at;
      while (at < s.length()
          && (Character.isLetterOrDigit(s.charAt(at))
              || s.charAt(at) == '_'
              || s.charAt(at) == '$')) {
        at++;
      }
      return at == start ? null : s.substring(start, at).toLowerCase(Locale.ROOT);
    }
  }
}

package io.jbouncer.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PgBouncer's libpq-like {@code key=value key2='quoted value'} strings, used by {@code [databases]}
 * and {@code [users]} entries. As in PgBouncer (src/loader.c): a value is quoted with single quotes
 * and {@code ''} stands for one quote; there are no backslash escapes; empty values are an error; a
 * key given twice keeps its last value. Stricter than PgBouncer: a closing quote must be followed
 * by whitespace or the end.
 */
final class ConnString {
  private ConnString() {}

  /**
   * Returns the pairs in the order written.
   *
   * @param errorPrefix what the error message starts with, e.g. {@code "pgbouncer.ini:12:
   *     [databases] mydb: syntax error in connection string"}
   * @throws ConfigError {@code <errorPrefix>: <what is wrong>}
   */
  static Map<String, String> parse(String text, String errorPrefix) {
    Map<String, String> pairs = new LinkedHashMap<>();
    int n = text.length();
    int p = skipSpace(text, 0);
    while (p < n) {
      int keyStart = p;
      while (p < n && text.charAt(p) != '=' && !Character.isWhitespace(text.charAt(p))) {
        p++;
      }
      String key = text.substring(keyStart, p);
      p = skipSpace(text, p);
      if (key.isEmpty() || p >= n || text.charAt(p) != '=') {
        throw new ConfigError(
            errorPrefix + ": expected key=value at \"" + text.substring(keyStart) + "\"");
      }
      p = skipSpace(text, p + 1);
      StringBuilder value = new StringBuilder();
      if (p < n && text.charAt(p) == '\'') {
        p++;
        while (true) {
          if (p >= n) {
            throw new ConfigError(errorPrefix + ": unterminated quoted value for " + key);
          }
          char c = text.charAt(p);
          if (c == '\'') {
            if (p + 1 < n && text.charAt(p + 1) == '\'') {
              value.append('\'');
              p += 2;
              continue;
            }
            p++;
            break;
          }
          value.append(c);
          p++;
        }
        if (p < n && !Character.isWhitespace(text.charAt(p))) {
          throw new ConfigError(
              errorPrefix + ": expected a space after the quoted value of " + key);
        }
      } else {
        int valueStart = p;
        while (p < n && !Character.isWhitespace(text.charAt(p))) {
          p++;
        }
        value.append(text, valueStart, p);
      }
      if (value.length() == 0) {
        throw new ConfigError(errorPrefix + ": empty value for " + key);
      }
      pairs.put(key, value.toString());
      p = skipSpace(text, p);
    }
    return pairs;
  }

  private static int skipSpace(String text, int p) {
    while (p < text.length() && Character.isWhitespace(text.charAt(p))) {
      p++;
    }
    return p;
  }
}

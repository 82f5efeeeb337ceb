package io.jbouncer.admin;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One admin console command, parsed as PgBouncer parses it: {@code WORD [WORD] [;]} or {@code SET
 * key (= | TO) value [;]}, case-insensitively, where a word is {@code [0-9a-z_]+} or a {@code
 * "quoted"} name and a SET value may also be a {@code 'string'}. The command name is lower-cased;
 * arguments keep their case, as database names are case-sensitive.
 *
 * @param name the command, lower case ({@code show}, {@code pause}, ...; {@code set} for SET)
 * @param argument the second word, "" when absent; for SET, the key
 * @param value for SET, the value; else null
 * @see <a href="https://www.pgbouncer.org/usage.html#admin-console">PgBouncer's admin console</a>
 */
public record AdminCommand(String name, String argument, @Nullable String value) {
  private static final String WS0 = "[ \\t\\n\\r]*";
  private static final String WS1 = "[ \\t\\n\\r]+";
  private static final String WORD = "(?:\"(?:[^\"]+|\"\")*\"|[0-9a-z_]+)";
  private static final String STRING = "(?:'(?:[^']|'')*')";
  private static final String END = WS0 + "(?:;" + WS0 + ")?";
  private static final int FLAGS = Pattern.CASE_INSENSITIVE | Pattern.DOTALL;

  private static final Pattern COMMAND =
      Pattern.compile(
          "^" + WS0 + "(" + WORD + ")(?:" + WS1 + "(" + WORD + "))?" + END + "$", FLAGS);
  private static final Pattern SET =
      Pattern.compile(
          "^"
              + WS0
              + "set"
              + WS1
              + "("
              + WORD
              + ")"
              + WS0
              + "(?:=|to)"
              + WS0
              + "("
              + STRING
              + "|"
              + WORD
              + ")"
              + END
              + "$",
          FLAGS);

  // PgBouncer's buffer sizes: cmd[16], arg[64], val[256], each with its NUL
  static final int MAX_NAME = 15;
  static final int MAX_ARGUMENT = 63;
  static final int MAX_VALUE = 255;

  /** Why a query is not a command; the console answers with the message. */
  public static final class SyntaxError extends Exception {
    SyntaxError(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Parses {@code query}.
   *
   * @throws SyntaxError with PgBouncer's text: {@code invalid command '<query>', use SHOW HELP;} or
   *     {@code bad arguments}
   */
  public static AdminCommand parse(String query) throws SyntaxError {
    Matcher m = COMMAND.matcher(query);
    if (m.matches()) {
      String name = m.group(1);
      String argument = m.group(2) == null ? "" : m.group(2);
      if (name.length() > MAX_NAME || argument.length() > MAX_ARGUMENT) {
        throw new SyntaxError("bad arguments");
      }
      return new AdminCommand(unquote(name).toLowerCase(Locale.ROOT), unquote(argument), null);
    }
    m = SET.matcher(query);
    if (m.matches()) {
      String key = unquote(m.group(1));
      String raw = m.group(2);
      String value = raw.startsWith("'") ? unquoteString(raw) : unquote(raw);
      if (key.isEmpty() || key.length() > MAX_ARGUMENT || value.length() > MAX_VALUE) {
        throw new SyntaxError("bad arguments");
      }
      return new AdminCommand("set", key, value);
    }
    throw new SyntaxError("invalid command '" + query + "', use SHOW HELP;");
  }

  /** A {@code "quoted"} word without its quotes ({@code ""} is one quote); others as they are. */
  private static String unquote(String word) {
    if (word.length() >= 2 && word.startsWith("\"") && word.endsWith("\"")) {
      return word.substring(1, word.length() - 1).replace("\"\"", "\"");
    }
    return word;
  }

  private static String unquoteString(String string) {
    return string.substring(1, string.length() - 1).replace("''", "'");
  }
}

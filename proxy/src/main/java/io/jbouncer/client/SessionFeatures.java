package io.jbouncer.client;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Recognises, in the text of a Query or a Parse, the session-level features whose state outlives
 * the transaction and would be lost, or leak to another client, if the server went back to the
 * pool: LISTEN, session advisory locks, temporary tables, cursors WITH HOLD, SQL-level PREPARE, SET
 * ROLE and SET SESSION AUTHORIZATION pin the client to its server; SETs of parameters PostgreSQL
 * does not report, RESET, set_config and DISCARD change settings that {@link SessionCheck} reads
 * back and replays. A pinned client is unpinned when the check finds its state gone.
 *
 * <p>Cheap on ordinary statements: the first keyword decides for most, and the others are scanned
 * for the function names around their underscores, with no allocation. It errs on the side of
 * pinning: a pinned client costs a server, an unpinned one a wrong answer.
 */
final class SessionFeatures {
  /**
   * What {@link #pinReason} returns for a statement that changes session settings: not a pin; the
   * settings are read back at the end of the transaction and follow the client.
   */
  static final String SETTINGS = "session settings";

  private SessionFeatures() {}

  /**
   * Why a Query or Parse frame pins its client; {@link #SETTINGS} (compare by identity) when it
   * changes session settings; null when it does neither. Each statement of a Query that holds
   * several is looked at (a ';' in a string may make it look at too much, never too little).
   */
  static @Nullable String pinReason(ByteBuf query) {
    int start = sqlStart(query);
    int end = query.writerIndex();
    String settings = null;
    int at = start;
    while (at < end) {
      at = skipBlanks(query, at, end);
      String reason = firstKeywordReason(query, at, end);
      if (reason == SETTINGS) {
        settings = SETTINGS;
      } else if (reason != null) {
        return reason;
      }
      int semicolon = at < end ? query.indexOf(at, end, (byte) ';') : -1;
      if (semicolon < 0) {
        break;
      }
      at = semicolon + 1;
    }
    // other statements reach session state only through function calls: one scan of the text
    String function = sessionFunction(query, start, end);
    return function != null ? function : settings;
  }

  /** What the statement starting at {@code at} does, as far as its first keywords tell. */
  private static @Nullable String firstKeywordReason(ByteBuf query, int at, int end) {
    int wordEnd = wordEnd(query, at, end);
    // byte comparisons, no allocation: this runs for every statement
    if (is(query, at, wordEnd, "LISTEN")) {
      return "LISTEN";
    }
    if (is(query, at, wordEnd, "PREPARE")) {
      return "PREPARE";
    }
    if (is(query, at, wordEnd, "DECLARE")) {
      return containsWord(query, wordEnd, end, "hold") ? "DECLARE ... WITH HOLD" : null;
    }
    if (is(query, at, wordEnd, "CREATE")) {
      return createsTemporary(query, wordEnd, end) ? "CREATE TEMP" : null;
    }
    if (is(query, at, wordEnd, "SET")) {
      return setReason(query, wordEnd, end);
    }
    if (is(query, at, wordEnd, "RESET") || is(query, at, wordEnd, "DISCARD")) {
      return SETTINGS; // RESET ROLE and DISCARD ALL also end pins: the check will see
    }
    return null;
  }

  /**
   * The parameter (lower case) of a Query or Parse that is one plain {@code SET [SESSION] name = |
   * TO ...} and nothing else, else null. Once it succeeds outside a transaction block its text says
   * what the session now has, and is replayed as it is; anything else is read back from the server.
   */
  static @Nullable String loneSetName(ByteBuf query) {
    char type = Frames.type(query);
    int end = sqlEnd(query);
    if ((type != 'Q' && type != 'P') || end < 0) {
      return null;
    }
    int at = skipBlanks(query, sqlStart(query), end);
    int wordEnd = wordEnd(query, at, end);
    if (!is(query, at, wordEnd, "SET")) {
      return null;
    }
    at = skipBlanks(query, wordEnd, end);
    wordEnd = wordEnd(query, at, end);
    if (is(query, at, wordEnd, "SESSION")) {
      at = skipBlanks(query, wordEnd, end);
    }
    int nameEnd = at;
    while (nameEnd < end && (isWordByte(query.getByte(nameEnd)) || query.getByte(nameEnd) == '.')) {
      nameEnd++;
    }
    int next = skipBlanks(query, nameEnd, end);
    int nextEnd = wordEnd(query, next, end);
    boolean assigns = (next < end && query.getByte(next) == '=') || is(query, next, nextEnd, "TO");
    if (nameEnd == at || !assigns) {
      return null; // SET ROLE, SET TIME ZONE, SET SESSION CHARACTERISTICS...: read back instead
    }
    int semicolon = query.indexOf(next, end, (byte) ';');
    if (semicolon >= 0 && skipBlanks(query, semicolon, end) != end) {
      return null; // more than one statement, or a ';' in a value: read back instead
    }
    return query.toString(at, nameEnd - at, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
  }

  /** The SQL text of a Query or Parse. */
  static String sqlText(ByteBuf frame) {
    int start = sqlStart(frame);
    return frame.toString(start, Math.max(0, sqlEnd(frame) - start), StandardCharsets.UTF_8);
  }

  /** Where the SQL text of a Query or Parse ends (its NUL), or -1 when it does not. */
  private static int sqlEnd(ByteBuf frame) {
    int start = sqlStart(frame);
    return start < frame.writerIndex() ? frame.indexOf(start, frame.writerIndex(), (byte) 0) : -1;
  }

  /**
   * For a pinned client: a statement that may end what pins it (UNLISTEN, unlock, DROP of a temp
   * table, CLOSE of a cursor, DEALLOCATE, DISCARD, RESET or SET of the role), after which the
   * server is asked whether anything is left.
   */
  static boolean mayEndPin(ByteBuf query) {
    int end = query.writerIndex();
    int at = skipBlanks(query, sqlStart(query), end);
    int wordEnd = wordEnd(query, at, end);
    for (String word : PIN_ENDING_WORDS) {
      if (is(query, at, wordEnd, word)) {
        return true;
      }
    }
    for (int i = at; i < end && (i = query.indexOf(i, end, (byte) '_')) >= 0; i++) {
      if (endsWith(query, i, "advisory") && startsWith(query, i + 1, end, "unlock")) {
        return true;
      }
    }
    return false;
  }

  private static final String[] PIN_ENDING_WORDS = {
    "UNLISTEN", "DROP", "CLOSE", "DEALLOCATE", "DISCARD", "RESET", "SET"
  };

  /**
   * pg_advisory_lock and its variants (not the _xact_ ones, spelt differently) and set_config:
   * looked for around each underscore, so an ordinary statement costs one scan for '_'.
   */
  private static @Nullable String sessionFunction(ByteBuf b, int from, int to) {
    String settings = null;
    int i = from;
    while (i < to && (i = b.indexOf(i, to, (byte) '_')) >= 0) {
      if (endsWith(b, i, "advisory") && startsWith(b, i + 1, to, "lock")) {
        return "advisory lock"; // a pin wins over settings
      }
      if (settings == null
          && endsWith(b, i, "set")
          && startsWith(b, i + 1, to, "config")
          && !transactionLocal(b, i + 1 + "config".length(), to)) {
        settings = SETTINGS; // also set_config('role', ...): the check pins for it
      }
      i++;
    }
    return settings;
  }

  /**
   * True when the set_config call whose arguments start at {@code at} has {@code true} for is_local
   * (as PostgREST sends per request): it ends with the transaction and needs no check. Anything it
   * cannot read for sure (a parameter, an expression) counts as session-wide.
   */
  private static boolean transactionLocal(ByteBuf b, int at, int to) {
    int p = at;
    while (p < to && (b.getByte(p) == ' ' || b.getByte(p) == '\n' || b.getByte(p) == '\t')) {
      p++;
    }
    if (p >= to || b.getByte(p) != '(') {
      return false;
    }
    int depth = 0;
    int lastArgument = p + 1;
    for (int q = p; q < to; q++) {
      byte c = b.getByte(q);
      if (c == '\'' || c == '"') {
        q = b.indexOf(q + 1, to, c); // a doubled quote is two strings, which is as good here
        if (q < 0) {
          return false;
        }
      } else if (c == '(') {
        depth++;
      } else if (c == ',' && depth == 1) {
        lastArgument = q + 1;
      } else if (c == ')' && --depth == 0) {
        return isTrue(b, lastArgument, q);
      }
    }
    return false;
  }

  /** The argument text [from, to) is {@code true}, {@code 't'} or {@code 'true'}, any case. */
  private static boolean isTrue(ByteBuf b, int from, int to) {
    int start = from;
    int end = to;
    while (start < end && isBlank(b.getByte(start))) {
      start++;
    }
    while (end > start && isBlank(b.getByte(end - 1))) {
      end--;
    }
    return is(b, start, end, "TRUE") || is(b, start, end, "'T'") || is(b, start, end, "'TRUE'");
  }

  private static boolean isBlank(byte c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
  }

  /** The word [from, to) is {@code upper} (upper-case ASCII), in any case. */
  private static boolean is(ByteBuf b, int from, int to, String upper) {
    return to - from == upper.length() && startsWith(b, from, to, upper);
  }

  private static boolean startsWith(ByteBuf b, int at, int to, String word) {
    if (to - at < word.length()) {
      return false;
    }
    for (int j = 0; j < word.length(); j++) {
      if ((b.getByte(at + j) | 0x20) != (word.charAt(j) | 0x20)) {
        return false;
      }
    }
    return true;
  }

  /** The bytes just before {@code at} spell {@code word}, in any case. */
  private static boolean endsWith(ByteBuf b, int at, String word) {
    int from = at - word.length();
    return from >= 0 && startsWith(b, from, at, word);
  }

  /**
   * Where the SQL text starts in a Query, or in a Parse (after the statement's name); the end of
   * the frame when a Parse is malformed.
   */
  static int sqlStart(ByteBuf frame) {
    int at = frame.readerIndex() + Frames.HEADER_LENGTH;
    if (Frames.type(frame) != 'P') {
      return at;
    }
    int nul = at < frame.writerIndex() ? frame.indexOf(at, frame.writerIndex(), (byte) 0) : -1;
    return nul < 0 ? frame.writerIndex() : nul + 1;
  }

  /**
   * {@code session_state = error}: the same Query or Parse with its SQL replaced by a DO block that
   * raises 0A000 naming the feature, so that PostgreSQL fails it where it stands, with its own
   * transaction semantics (an open transaction is aborted, as any error aborts it). Takes ownership
   * of {@code frame}.
   */
  static ByteBuf refusal(ByteBuf frame, String reason) {
    String message =
        reason
            + " keeps state in the server's session, which transaction pooling does not"
            + " allow here (session_state = error)";
    byte[] sql =
        ("DO $jbouncer$BEGIN RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', MESSAGE = '"
                + message.replace("'", "''")
                + "'; END$jbouncer$")
            .getBytes(StandardCharsets.UTF_8);
    int start = sqlStart(frame);
    int sqlEnd = frame.indexOf(start, frame.writerIndex(), (byte) 0);
    int head = start - frame.readerIndex(); // type, length and, for a Parse, the name
    int tail = sqlEnd < 0 ? 0 : frame.writerIndex() - (sqlEnd + 1); // a Parse's parameter types
    ByteBuf out = frame.alloc().ioBuffer(head + sql.length + 1 + tail);
    out.writeBytes(frame, frame.readerIndex(), head).writeBytes(sql).writeByte(0);
    if (tail > 0) {
      out.writeBytes(frame, sqlEnd + 1, tail);
    }
    out.setInt(1, out.readableBytes() - 1);
    frame.release();
    return out;
  }

  /**
   * The CommandComplete tag of a Query that only opens a transaction in a way that cannot fail on a
   * primary or a standby, else null: BEGIN [WORK | TRANSACTION] or START TRANSACTION, with at most
   * ISOLATION LEVEL READ COMMITTED or REPEATABLE READ (psycopg2 sends these; SERIALIZABLE and READ
   * WRITE can fail on a standby, so they are not answered early).
   */
  static @Nullable String deferrableBeginTag(ByteBuf query) {
    int end = query.writerIndex() - 1; // the NUL
    int start = skipBlanks(query, query.readerIndex() + Frames.HEADER_LENGTH, end);
    int firstEnd = wordEnd(query, start, end);
    if (!is(query, start, firstEnd, "BEGIN") && !is(query, start, firstEnd, "START")) {
      return null; // every other statement that starts a transaction: no allocation
    }
    int[] at = {start};
    String tag;
    if (next(query, at, end, "BEGIN")) {
      tag = "BEGIN";
      if (!next(query, at, end, "WORK")) {
        next(query, at, end, "TRANSACTION");
      }
    } else if (next(query, at, end, "START") && next(query, at, end, "TRANSACTION")) {
      tag = "START TRANSACTION";
    } else {
      return null;
    }
    if (next(query, at, end, "ISOLATION")) {
      if (!next(query, at, end, "LEVEL")) {
        return null;
      }
      boolean level =
          next(query, at, end, "READ")
              ? next(query, at, end, "COMMITTED")
              : next(query, at, end, "REPEATABLE") && next(query, at, end, "READ");
      if (!level) {
        return null;
      }
    }
    return skipBlanks(query, at[0], end) == end ? tag : null;
  }

  /**
   * The CommandComplete tag of a Query that is a bare COMMIT, END, ROLLBACK or ABORT ("COMMIT" or
   * "ROLLBACK", as PostgreSQL tags them), else null.
   */
  static @Nullable String transactionEndTag(ByteBuf query) {
    int end = query.writerIndex() - 1;
    int[] at = {skipBlanks(query, query.readerIndex() + Frames.HEADER_LENGTH, end)};
    String tag;
    if (next(query, at, end, "COMMIT") || next(query, at, end, "END")) {
      tag = "COMMIT";
    } else if (next(query, at, end, "ROLLBACK") || next(query, at, end, "ABORT")) {
      tag = "ROLLBACK";
    } else {
      return null;
    }
    if (!next(query, at, end, "WORK")) {
      next(query, at, end, "TRANSACTION");
    }
    return skipBlanks(query, at[0], end) == end ? tag : null;
  }

  /** If the next word is {@code upper}, steps over it (and the blanks after) and says so. */
  private static boolean next(ByteBuf b, int[] at, int end, String upper) {
    int from = skipBlanks(b, at[0], end);
    int wordEnd = wordEnd(b, from, end);
    if (!is(b, from, wordEnd, upper)) {
      return false;
    }
    at[0] = wordEnd;
    return true;
  }

  /** True for a Query that is {@code DISCARD ALL} alone (any case, blanks, one semicolon). */
  static boolean isDiscardAll(ByteBuf query) {
    return isTwoWords(query, "DISCARD", "ALL");
  }

  /**
   * True for a Query that is one {@code RESET name}, {@code RESET ALL} or {@code DISCARD ALL} and
   * nothing else: its reply reports what the server's own defaults are, which for a tracked
   * parameter are the client's startup values instead.
   */
  static boolean isLoneReset(ByteBuf query) {
    return isDiscardAll(query) || isTwoWords(query, "RESET", null);
  }

  /** A Query of two words alone: {@code first}, then {@code second} (any word when null). */
  private static boolean isTwoWords(ByteBuf query, String first, @Nullable String second) {
    int end = query.writerIndex() - 1; // the NUL
    if (end < query.readerIndex() + Frames.HEADER_LENGTH || query.getByte(end) != 0) {
      return false;
    }
    int at = skipBlanks(query, query.readerIndex() + Frames.HEADER_LENGTH, end);
    int wordEnd = wordEnd(query, at, end);
    if (!is(query, at, wordEnd, first)) {
      return false;
    }
    at = skipBlanks(query, wordEnd, end);
    wordEnd = wordEnd(query, at, end);
    boolean secondWord = second == null ? wordEnd > at : is(query, at, wordEnd, second);
    return secondWord && skipBlanks(query, wordEnd, end) == end; // skipBlanks steps over ';'
  }

  /** CREATE [OR REPLACE] [GLOBAL | LOCAL] TEMP|TEMPORARY ... */
  private static boolean createsTemporary(ByteBuf query, int from, int end) {
    int at = from;
    for (int words = 0; words < 4; words++) {
      at = skipBlanks(query, at, end);
      int wordEnd = wordEnd(query, at, end);
      switch (word(query, at, wordEnd)) {
        case "TEMP", "TEMPORARY":
          return true;
        case "OR", "REPLACE", "GLOBAL", "LOCAL":
          at = wordEnd;
          break;
        default:
          return false;
      }
    }
    return false;
  }

  /**
   * After SET: LOCAL, TRANSACTION and CONSTRAINTS end with the transaction; the five parameters
   * PgBouncer always tracks are reported and restored by the relay; ROLE and SESSION AUTHORIZATION
   * pin; any other parameter, and SET SESSION CHARACTERISTICS, are session settings.
   */
  private static @Nullable String setReason(ByteBuf query, int from, int end) {
    int at = skipBlanks(query, from, end);
    int wordEnd = wordEnd(query, at, end);
    String second = word(query, at, wordEnd);
    switch (second) {
      case "LOCAL", "TRANSACTION", "CONSTRAINTS":
        return null;
      case "NAMES", "TIME": // SET NAMES is client_encoding, SET TIME ZONE is TimeZone: reported
        return null;
      case "ROLE":
        return "SET ROLE";
      case "SESSION":
        int next = skipBlanks(query, wordEnd, end);
        int nextEnd = wordEnd(query, next, end);
        String third = word(query, next, nextEnd);
        if (third.equals("AUTHORIZATION")) {
          return "SET SESSION AUTHORIZATION";
        }
        if (third.equals("ROLE")) {
          return "SET ROLE";
        }
        return TrackedParameters.alwaysTracked(third) ? null : SETTINGS;
      default:
        return TrackedParameters.alwaysTracked(second) ? null : SETTINGS;
    }
  }

  private static int skipBlanks(ByteBuf b, int at, int end) {
    while (at < end) {
      byte c = b.getByte(at);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ';') {
        at++;
      } else if (c == '-' && at + 1 < end && b.getByte(at + 1) == '-') {
        while (at < end && b.getByte(at) != '\n') {
          at++;
        }
      } else if (c == '/' && at + 1 < end && b.getByte(at + 1) == '*') {
        at += 2;
        while (at + 1 < end && !(b.getByte(at) == '*' && b.getByte(at + 1) == '/')) {
          at++;
        }
        at += 2;
      } else {
        break;
      }
    }
    return Math.min(at, end);
  }

  private static boolean isWordByte(byte c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }

  private static int wordEnd(ByteBuf b, int at, int end) {
    while (at < end && isWordByte(b.getByte(at))) {
      at++;
    }
    return at;
  }

  /** The word upper-cased; a short string, and only for a statement's first words. */
  private static String word(ByteBuf b, int from, int to) {
    return b.toString(from, Math.min(to - from, 40), StandardCharsets.US_ASCII)
        .toUpperCase(Locale.ROOT);
  }

  /** Case-insensitive search for {@code lower} (lower-case ASCII) in [from, to). */
  private static boolean contains(ByteBuf b, int from, int to, String lower) {
    int n = lower.length();
    char first = lower.charAt(0);
    for (int i = from; i + n <= to; i++) {
      if ((b.getByte(i) | 0x20) != first) {
        continue;
      }
      int j = 1;
      while (j < n && (b.getByte(i + j) | 0x20) == (lower.charAt(j) | 0x20)) {
        j++;
      }
      if (j == n) {
        return true;
      }
    }
    return false;
  }

  /** {@link #contains} as a whole word. */
  private static boolean containsWord(ByteBuf b, int from, int to, String lower) {
    int n = lower.length();
    for (int i = from; i + n <= to; i++) {
      if (contains(b, i, i + n, lower)
          && (i == from || !isWordByte(b.getByte(i - 1)))
          && (i + n == to || !isWordByte(b.getByte(i + n)))) {
        return true;
      }
    }
    return false;
  }
}

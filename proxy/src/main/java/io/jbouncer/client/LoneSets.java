package io.jbouncer.client;

import io.jbouncer.protocol.backend.CommandComplete;
import io.netty.buffer.ByteBuf;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One client's lone SETs ({@link SessionFeatures#loneSetName}), in a Query or in the extended
 * protocol, followed to the end of their transaction. A SET that succeeded as the last command
 * before its ReadyForQuery, outside a transaction block or in one that then committed with no error
 * and no ROLLBACK (TO SAVEPOINT) after it, is in the session as its text says: its text replays it,
 * and the server need not be asked. In every other case it must be asked ({@link SessionCheck}).
 * Confined to the client's event loop; costs nothing while no lone SET is about.
 */
final class LoneSets {
  private @Nullable String name; // the lone SET on its way
  private String text = "";
  private long syncPoint; // the sync point its ReadyForQuery answers
  private boolean completed;
  private @Nullable Map<String, String> inTransaction; // succeeded in the transaction still open
  private boolean committed;
  private boolean doubtful; // an error or a ROLLBACK since the first of them
  private boolean mustAsk;

  boolean onItsWay() {
    return name != null;
  }

  /** That very SET is on its way to that sync point already (a Parse, then its Bind). */
  boolean isOnItsWay(String name, String text, long syncPoint) {
    return name.equals(this.name) && text.equals(this.text) && syncPoint == this.syncPoint;
  }

  /** A lone SET forwarded as sync point {@code syncPoint}. */
  void sent(String name, String text, long syncPoint) {
    this.name = name;
    this.text = text;
    this.syncPoint = syncPoint;
    this.completed = false;
  }

  /** A CommandComplete after {@code answered} sync points were answered. */
  void commandComplete(ByteBuf frame, long answered) {
    if (name == null && inTransaction == null) {
      return;
    }
    String tag = CommandComplete.decode(frame).tag();
    if (name != null && answered == syncPoint - 1) {
      completed = tag.equals("SET");
    }
    if (inTransaction != null) {
      if (tag.equals("COMMIT")) {
        committed = true;
      } else if (tag.equals("ROLLBACK") || tag.startsWith("PREPARE")) {
        doubtful = true; // ROLLBACK TO SAVEPOINT may or may not have undone them: ask
      }
    }
  }

  /**
   * An ErrorResponse after {@code answered} sync points were answered: the transaction, and what it
   * set, may be rolled back; the lone SET on its way, if it belongs to that sync point, too.
   */
  void error(long answered) {
    if (name != null && answered == syncPoint - 1) {
      completed = false; // a later failure before the same Sync rolls back an implicit transaction
    }
    if (inTransaction != null) {
      doubtful = true;
    }
  }

  /**
   * A ReadyForQuery after {@code answered} sync points were answered, with transaction {@code
   * status}: the settings to take now (name to the text that replays it), empty when none.
   */
  Map<String, String> readyForQuery(char status, long answered) {
    if (name != null && answered == syncPoint) {
      String set = name;
      name = null;
      if (!completed) {
        // failed, not run by that Sync (a Parse for later), or not the last command before it
        mustAsk = true;
        return Map.of();
      }
      if (status == 'I') {
        return Map.of(set, text);
      }
      if (inTransaction == null) { // inside a transaction block: its end will tell
        inTransaction = new LinkedHashMap<>();
        committed = false;
        doubtful = false;
      }
      inTransaction.remove(set); // the newest last, as the server applied them
      inTransaction.put(set, text);
      return Map.of();
    }
    Map<String, String> done = inTransaction;
    if (done == null || status != 'I') {
      return Map.of();
    }
    inTransaction = null;
    if (committed && !doubtful) {
      return done;
    }
    mustAsk = true;
    return Map.of();
  }

  /** Whether the server must be asked what its session has now; asking once clears it. */
  boolean takeMustAsk() {
    boolean ask = mustAsk;
    mustAsk = false;
    return ask;
  }
}

package io.jbouncer.prepared;

import io.jbouncer.pool.PoolStats;
import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.backend.ErrorResponse;
import io.jbouncer.protocol.frontend.StatementNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Protocol-level prepared statements under transaction and statement pooling, one server's half:
 * which statements it has prepared (least recently used first, at most {@code
 * max_prepared_statements}), and the ParseComplete and CloseComplete replies it owes, in order,
 * with what to do with each.
 *
 * <p>Client statement names become {@link PreparedStatement#serverName server names}. A statement
 * the server lacks is prepared on demand by a Parse injected before the Bind or Describe that needs
 * it, its ParseComplete swallowed. Where PgBouncer synthesises a reply (a Parse of a statement the
 * server already has, a Close of a client's statement, which must stay for others), we send {@code
 * Close} of a name nobody uses instead: PostgreSQL answers it with CloseComplete at exactly the
 * place in the reply stream where the client expects its reply, and skips it exactly as it would
 * have skipped the client's message after an error, so order and error semantics come from the
 * server, not from bookkeeping. Names a client does not know are forwarded unchanged, so that
 * PostgreSQL's own errors reach the client.
 *
 * <p>Errors: after an ErrorResponse PostgreSQL skips extended-protocol messages until the next
 * Sync. Each expected reply carries its <em>epoch</em>, the number of sync points (Sync, Query,
 * FunctionCall) forwarded before it; an error in epoch {@code e} means no reply will come for the
 * queued messages of epoch {@code e}, nor for those forwarded before the next Sync: their effects
 * on both maps are undone.
 *
 * <p>Threading: confined to the event loop of the client the server is linked to, like the rest of
 * the server's relay state.
 */
public final class ServerStatements {
  /** The name nobody prepares: a Close of it is answered with CloseComplete and does nothing. */
  static final String NOBODY = PreparedStatement.PREFIX + "none";

  private static final byte[] PARSE_COMPLETE = {'1', 0, 0, 0, 4};

  private enum Kind {
    /** A client's Parse, forwarded (renamed when it names a statement); its reply goes through. */
    PARSE,
    /** A client's Parse of a statement the server has: a Close of NOBODY stands in for it. */
    PARSE_PREPARED,
    /** A client's Parse of a name it already uses: PostgreSQL's 42P05 is renamed back. */
    PARSE_NAME_IN_USE,
    /** Our Parse of a statement a Bind or Describe needs: its ParseComplete is swallowed. */
    PARSE_INJECTED,
    /** A client's Close, forwarded, or a Close of NOBODY standing in for one of a statement. */
    CLOSE,
    /** Our Close of a statement evicted from the server: its CloseComplete is swallowed. */
    CLOSE_EVICTED
  }

  private record Reply(
      Kind kind, long epoch, @Nullable String clientName, @Nullable PreparedStatement statement) {}

  private final LinkedHashMap<String, PreparedStatement> prepared =
      new LinkedHashMap<>(16, 0.75f, true);
  private final ArrayDeque<Reply> replies = new ArrayDeque<>();
  private long errorEpoch = -1; // PostgreSQL skips what is forwarded in it until the next Sync
  private volatile int count;

  /** Statements prepared on this server (SHOW SERVERS); readable from any thread. */
  public int count() {
    return count;
  }

  // --- client to server ---

  /**
   * Forwards a whole Parse, Bind, Describe or Close ({@code type}) of the linked client to {@code
   * server}, renaming statements and preparing them on demand; this method owns {@code frame}.
   *
   * @param epoch the sync points forwarded to this server so far
   * @return the client's statement a Parse defined or a Bind executes, else null
   */
  public @Nullable PreparedStatement forward(
      ByteBuf frame,
      char type,
      ClientStatements client,
      Channel server,
      int maxPrepared,
      long epoch,
      PoolStats stats) {
    ByteBufAllocator alloc = server.alloc();
    switch (type) {
      case 'P' -> {
        String name = StatementNames.parseName(frame);
        if (name == null || name.isEmpty()) {
          expect(Kind.PARSE, epoch, null, null, client);
          write(server, frame);
          return null;
        }
        byte[] definition = StatementNames.parseDefinition(frame, name);
        frame.release();
        PreparedStatement inUse = client.get(name);
        if (inUse != null) {
          // PostgreSQL checks the query first, then the name: let it, with the name it knows
          prepare(inUse, client, server, maxPrepared, epoch, stats);
          expect(Kind.PARSE_NAME_IN_USE, epoch, name, inUse, client);
          write(server, StatementNames.parse(alloc, inUse.serverName(), definition));
          return null;
        }
        PreparedStatement statement = PreparedStatement.of(definition);
        client.put(name, statement);
        if (prepared.get(statement.serverName()) != null) {
          expect(Kind.PARSE_PREPARED, epoch, name, statement, client);
          write(server, StatementNames.ofStatement(alloc, 'C', NOBODY));
          return statement;
        }
        evictFor(server, maxPrepared, epoch, client);
        add(statement);
        stats.serverParses++;
        expect(Kind.PARSE, epoch, name, statement, client);
        write(server, StatementNames.parse(alloc, statement.serverName(), definition));
        return statement;
      }
      case 'B' -> {
        String name = StatementNames.bindStatement(frame);
        PreparedStatement statement = name == null ? null : client.get(name);
        if (statement == null) {
          write(server, frame); // unnamed, unknown or malformed: the server says what it says
          return null;
        }
        prepare(statement, client, server, maxPrepared, epoch, stats);
        ByteBuf renamed = StatementNames.renameBind(frame, statement.serverName(), alloc);
        frame.release();
        write(server, renamed);
        return statement;
      }
      case 'D' -> {
        String name = StatementNames.kind(frame) == 'S' ? StatementNames.target(frame) : null;
        PreparedStatement statement = name == null ? null : client.get(name);
        if (statement == null) {
          write(server, frame);
          return null;
        }
        prepare(statement, client, server, maxPrepared, epoch, stats);
        frame.release();
        write(server, StatementNames.ofStatement(alloc, 'D', statement.serverName()));
        return null;
      }
      case 'C' -> {
        String name = StatementNames.kind(frame) == 'S' ? StatementNames.target(frame) : null;
        PreparedStatement statement = name == null ? null : client.remove(name);
        if (statement == null) {
          // a portal, or a statement prepared with SQL PREPARE: PostgreSQL closes its own
          expect(Kind.CLOSE, epoch, null, null, client);
          write(server, frame);
          return null;
        }
        frame.release();
        expect(Kind.CLOSE, epoch, name, statement, client); // kept on the server for others
        write(server, StatementNames.ofStatement(alloc, 'C', NOBODY));
        return null;
      }
      default -> {
        write(server, frame);
        return null;
      }
    }
  }

  /** Makes sure the server has {@code statement} before a message that uses it. */
  private void prepare(
      PreparedStatement statement,
      ClientStatements client,
      Channel server,
      int maxPrepared,
      long epoch,
      PoolStats stats) {
    if (prepared.get(statement.serverName()) != null) {
      return; // and now it is the most recently used
    }
    evictFor(server, maxPrepared, epoch, client);
    add(statement);
    stats.serverParses++;
    expect(Kind.PARSE_INJECTED, epoch, null, statement, client);
    write(
        server,
        StatementNames.parse(server.alloc(), statement.serverName(), statement.definition()));
  }

  private void evictFor(Channel server, int maxPrepared, long epoch, ClientStatements client) {
    while (prepared.size() >= Math.max(1, maxPrepared)) {
      Iterator<PreparedStatement> eldest = prepared.values().iterator();
      PreparedStatement evicted = eldest.next();
      eldest.remove();
      count = prepared.size();
      expect(Kind.CLOSE_EVICTED, epoch, null, evicted, client);
      write(server, StatementNames.ofStatement(server.alloc(), 'C', evicted.serverName()));
    }
  }

  private void add(PreparedStatement statement) {
    prepared.put(statement.serverName(), statement);
    count = prepared.size();
  }

  private void expect(
      Kind kind,
      long epoch,
      @Nullable String clientName,
      @Nullable PreparedStatement statement,
      ClientStatements client) {
    Reply reply = new Reply(kind, epoch, clientName, statement);
    if (epoch == errorEpoch) {
      undo(reply, client); // PostgreSQL will skip the message: no reply, no effect
    } else {
      replies.add(reply);
    }
  }

  private static void write(Channel server, ByteBuf frame) {
    server.write(frame, server.voidPromise());
  }

  // --- server to client ---

  /**
   * A reply of the server that may concern statements: ParseComplete, CloseComplete, ErrorResponse
   * or CommandComplete. Returns what goes to the client instead of {@code frame} (the frame itself,
   * a replacement, or null when swallowed); this method owns {@code frame}.
   *
   * @param answered the sync points of this server answered so far (ReadyForQuery)
   */
  public @Nullable ByteBuf onReply(
      ByteBuf frame, char type, ClientStatements client, long answered) {
    switch (type) {
      case '1', '3' -> {
        Reply reply = replies.poll();
        if (reply == null) {
          return frame; // forwarded before tracking began (RELOAD changed the pool mode)
        }
        return switch (reply.kind()) {
          case PARSE_INJECTED, CLOSE_EVICTED -> {
            frame.release();
            yield null;
          }
          case PARSE_PREPARED -> {
            frame.release();
            yield frame.alloc().ioBuffer(PARSE_COMPLETE.length).writeBytes(PARSE_COMPLETE);
          }
          default -> frame;
        };
      }
      case 'E' -> {
        return onError(frame, client, answered);
      }
      case 'C' -> {
        if (isReset(frame)) {
          client.clear(); // DEALLOCATE ALL and DISCARD ALL drop every statement of the session
          forgetAll();
        }
        return frame;
      }
      default -> {
        return frame;
      }
    }
  }

  private @Nullable ByteBuf onError(ByteBuf frame, ClientStatements client, long answered) {
    errorEpoch = answered; // the sync point being answered failed: the rest of it is skipped
    Reply head = replies.peek();
    ByteBuf out = frame;
    if (head != null && head.kind() == Kind.PARSE_NAME_IN_USE && head.epoch() == answered) {
      out = renamed(frame, head.statement().serverName(), head.clientName());
    }
    while (!replies.isEmpty() && replies.peek().epoch() == answered) {
      undo(replies.poll(), client);
    }
    return out;
  }

  /** PostgreSQL's "prepared statement "jbouncer_..." already exists", with the client's name. */
  private static ByteBuf renamed(ByteBuf frame, String serverName, String clientName) {
    ErrorResponse error = ErrorResponse.decode(frame);
    String message = error.message();
    String quoted = '"' + serverName + '"';
    if (!message.contains(quoted)) {
      return frame;
    }
    Map<Character, String> fields = new LinkedHashMap<>(error.fields());
    fields.put('M', message.replace(quoted, '"' + clientName + '"'));
    ByteBuf out = new ErrorResponse(fields).encodeTo(frame.alloc().ioBuffer());
    frame.release();
    return out;
  }

  /** A message PostgreSQL skipped: what forwarding it did to the maps is taken back. */
  private void undo(Reply reply, ClientStatements client) {
    PreparedStatement statement = reply.statement();
    String name = reply.clientName();
    switch (reply.kind()) {
      case PARSE -> {
        if (statement != null) {
          client.remove(name, statement);
          forget(statement);
        }
      }
      case PARSE_PREPARED -> client.remove(name, statement);
      case PARSE_INJECTED -> forget(statement);
      case CLOSE -> {
        if (statement != null && client.get(name) == null) {
          client.put(name, statement);
        }
      }
      case CLOSE_EVICTED -> add(statement); // still there
      case PARSE_NAME_IN_USE -> {}
    }
  }

  private void forget(PreparedStatement statement) {
    prepared.remove(statement.serverName(), statement);
    count = prepared.size();
  }

  /** The server forgot all its statements (DISCARD ALL as server_reset_query, for one). */
  public void forgetAll() {
    prepared.clear();
    count = 0;
  }

  /** A new client: nothing is owed, and no earlier error skips anything. */
  public void linked() {
    replies.clear();
    errorEpoch = -1;
  }

  /** True when nothing is owed: the server can go back to the pool. */
  public boolean isSettled() {
    return replies.isEmpty();
  }

  private static final byte[] DISCARD_ALL = "DISCARD ALL\0".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DEALLOCATE_ALL =
      "DEALLOCATE ALL\0".getBytes(StandardCharsets.US_ASCII);

  /** CommandComplete of DISCARD ALL. */
  public static boolean isDiscardAll(ByteBuf commandComplete) {
    return hasTag(commandComplete, DISCARD_ALL);
  }

  /** CommandComplete of DISCARD ALL or DEALLOCATE ALL. */
  public static boolean isReset(ByteBuf commandComplete) {
    return hasTag(commandComplete, DISCARD_ALL) || hasTag(commandComplete, DEALLOCATE_ALL);
  }

  /** By length first: no decoding of the tags of ordinary commands. */
  private static boolean hasTag(ByteBuf commandComplete, byte[] tag) {
    if (commandComplete.readableBytes() - Frames.HEADER_LENGTH != tag.length) {
      return false;
    }
    int at = commandComplete.readerIndex() + Frames.HEADER_LENGTH;
    for (int i = 0; i < tag.length; i++) {
      if (commandComplete.getByte(at + i) != tag[i]) {
        return false;
      }
    }
    return true;
  }
}

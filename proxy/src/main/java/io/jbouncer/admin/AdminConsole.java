package io.jbouncer.admin;

import io.jbouncer.client.ClientConnection;
import io.jbouncer.protocol.FrameContinuation;
import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.jbouncer.protocol.SqlState;
import io.jbouncer.protocol.backend.CommandComplete;
import io.jbouncer.protocol.backend.DataRow;
import io.jbouncer.protocol.backend.ErrorResponse;
import io.jbouncer.protocol.backend.NoticeResponse;
import io.jbouncer.protocol.backend.ReadyForQuery;
import io.jbouncer.protocol.frontend.Query;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin console of one client connected to the database {@code pgbouncer}: simple queries only,
 * answered one at a time and in order, each with ReadyForQuery 'I'. Runs on the client's event
 * loop; commands that take time (SHOW views gathered from every loop, PAUSE waiting for servers)
 * answer when they are done, and queries sent meanwhile wait their turn.
 *
 * @see <a href="https://www.pgbouncer.org/usage.html#admin-console">PgBouncer's admin console</a>
 */
public final class AdminConsole {
  private static final Logger log = LoggerFactory.getLogger(AdminConsole.class);

  private final Admin admin;
  private final ClientConnection client;
  private final boolean adminUser; // admin_users may run everything; stats_users only SHOW
  private final ArrayDeque<String> queued = new ArrayDeque<>();
  private boolean busy;
  private boolean closed;
  private boolean suspender; // this console suspended jbouncer: its leaving resumes

  AdminConsole(Admin admin, ClientConnection client, boolean adminUser) {
    this.admin = admin;
    this.client = client;
    this.adminUser = adminUser;
  }

  boolean adminUser() {
    return adminUser;
  }

  ClientConnection client() {
    return client;
  }

  boolean suspender() {
    return suspender;
  }

  void suspender(boolean suspended) {
    suspender = suspended;
  }

  /** The client connection closed. */
  public void closed() {
    closed = true;
    admin.closed(this);
  }

  /** One frame from the client; this method owns it. */
  public void onFrame(ByteBuf frame) {
    try {
      if (closed || frame instanceof FrameContinuation) {
        return; // the rest of a query too long to be a command: its start was answered
      }
      char type = Frames.type(frame);
      switch (type) {
        case 'Q' -> {
          String sql;
          try {
            sql = Frames.isWhole(frame) ? Query.decode(frame).sql() : "(a long query)";
          } catch (ProtocolException e) {
            sql = "(a malformed query)";
          }
          queued.add(sql);
          runNext();
        }
        case 'P', 'B', 'E', 'D', 'C', 'S', 'H' ->
            refuseAndClose("extended query protocol not supported by admin console");
        default -> refuseAndClose("unsupported packet type for admin console: " + (int) type);
      }
    } finally {
      frame.release();
    }
  }

  private void runNext() {
    if (busy || closed || queued.isEmpty()) {
      return;
    }
    busy = true;
    String sql = queued.poll();
    CompletableFuture<Reply> reply;
    try {
      reply = admin.execute(AdminCommand.parse(sql), sql, this);
    } catch (AdminCommand.SyntaxError e) {
      reply = CompletableFuture.completedFuture(new Reply.Error(e.getMessage()));
    } catch (RuntimeException e) {
      log.warn("{} admin command failed: {}", client.prefix(), sql, e);
      reply = CompletableFuture.completedFuture(new Reply.Error("internal error: " + e));
    }
    reply.whenComplete(
        (done, failure) ->
            client
                .eventLoop()
                .execute(
                    () -> {
                      send(
                          failure == null
                              ? done
                              : new Reply.Error("internal error: " + failure.getMessage()));
                      busy = false;
                      runNext();
                    }));
  }

  /** Writes {@code reply} and ReadyForQuery. A null reply (plain SHUTDOWN) writes nothing. */
  private void send(Reply reply) {
    Channel ch = client.channel();
    if (reply == null || closed || !ch.isActive()) {
      return;
    }
    if (reply instanceof Reply.Rows rows) {
      ch.write(rows.table().description().encodeTo(ch.alloc().ioBuffer()));
      for (DataRow row : rows.table().rows()) {
        ch.write(row.encodeTo(ch.alloc().ioBuffer()));
      }
      ch.write(new CommandComplete("SHOW").encodeTo(ch.alloc().ioBuffer()));
    } else if (reply instanceof Reply.Done done) {
      if (!done.notice().isEmpty()) {
        ch.write(new NoticeResponse(done.notice()).encodeTo(ch.alloc().ioBuffer()));
      }
      ch.write(new CommandComplete(done.tag()).encodeTo(ch.alloc().ioBuffer()));
    } else if (reply instanceof Reply.Error error) {
      log.error("{} {}", client.prefix(), error.message());
      ch.write(
          ErrorResponse.of("ERROR", error.sqlState(), error.message())
              .encodeTo(ch.alloc().ioBuffer()));
    }
    ch.writeAndFlush(ReadyForQuery.IDLE_FRAME.duplicate());
  }

  /** PgBouncer answers the extended protocol with an error and then closes ("bad packet"). */
  private void refuseAndClose(String message) {
    closed = true;
    Channel ch = client.channel();
    client.closeAfter(
        ErrorResponse.of("ERROR", SqlState.PROTOCOL_VIOLATION, message)
            .encodeTo(ch.alloc().ioBuffer()),
        "bad packet (" + message + ")");
  }
}

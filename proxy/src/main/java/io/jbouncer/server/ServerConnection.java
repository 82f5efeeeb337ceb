package io.jbouncer.server;

import io.jbouncer.Pooler;
import io.jbouncer.client.ClientConnection;
import io.jbouncer.log.Conn;
import io.jbouncer.pool.Pool;
import io.jbouncer.prepared.ServerStatements;
import io.jbouncer.protocol.FrameContinuation;
import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.SqlState;
import io.jbouncer.protocol.backend.CommandComplete;
import io.jbouncer.protocol.backend.ErrorResponse;
import io.jbouncer.protocol.backend.ParameterStatus;
import io.jbouncer.protocol.backend.ReadyForQuery;
import io.jbouncer.protocol.frontend.Query;
import io.jbouncer.protocol.frontend.Startup;
import io.jbouncer.protocol.frontend.Terminate;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to PostgreSQL: its login, and the server half of the relay.
 *
 * <p>Threading: the channel lives on the event loop it was opened on. While it is linked to a
 * client, its relay state (outstanding sync points, transaction status, hidden replies) belongs to
 * the client's event loop: frames read here are handed to the client's loop, in one task per read
 * when the loops differ. While unlinked (login, reset, idle) it belongs to its own loop. Hand-overs
 * go through the pool's lock or an event loop's task queue, which order the writes before the next
 * owner's reads.
 */
public final class ServerConnection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);

  /**
   * Server frames this handler reads whole: the login messages, ParameterStatus, ErrorResponse,
   * NoticeResponse and ReadyForQuery. Others larger than {@code pkt_buf} (rows, copy data) are
   * forwarded in pieces as they arrive.
   */
  public static final String KEEP_WHOLE = "RSKENZv";

  private final Pooler pooler;
  private final Pool pool;
  private final long id;
  private final Channel channel;
  private volatile ServerState state = ServerState.LOGIN;
  private volatile @Nullable ClientConnection client;
  private volatile boolean closed;
  private final AtomicBoolean closeRequested = new AtomicBoolean();
  private boolean counted = true; // guarded by the pool's lock
  private final long createdNanos = System.nanoTime();
  private final long createdMillis = System.currentTimeMillis();
  private volatile long lastUsedMillis = createdMillis; // linked or released last
  private volatile String applicationName = ""; // as the server reports it, for SHOW SERVERS
  private final int generation; // the pool's generation when this connection was opened
  private volatile long idleSinceNanos;
  private volatile @Nullable ClientConnection checkingFor;
  private volatile boolean used; // has served a client: PgBouncer's "used", checked before reuse

  // login
  private @Nullable BackendLogin login;
  private int processId;
  private int secretKey;
  private final Map<String, String> parameters = new HashMap<>();

  // relay state, owned by the linked client's event loop (see class comment)
  private int syncsOutstanding;
  // sync points (Sync, Query, FunctionCall) forwarded and answered over this connection's life:
  // the epochs of prepared-statement replies (see ServerStatements)
  private long syncPointsSent;
  private long syncPointsAnswered;
  private final ServerStatements statements = new ServerStatements();
  private boolean pendingSinceSync;
  // COPY FROM STDIN: PostgreSQL ignores Syncs that reach it in copy-in mode (see copyInStarted)
  private boolean copyIn;
  private int syncsSinceExecute; // forwarded after the last Execute or Query, before copy ended
  private boolean copyEndedSinceExecute; // CopyDone or CopyFail forwarded since then
  private int hiddenReplies;
  // settings of its session that jbouncer replays (see SessionCheck): immutable, replaced whole by
  // the linked client; the pool's lock orders the hand-over between clients' loops
  private Map<String, String> sessionSettings = Map.of();
  private char transactionStatus = 'I';
  private boolean resetting;
  private final AtomicInteger cancelsInFlight = new AtomicInteger();
  private final AtomicBoolean releaseAfterCancel = new AtomicBoolean();
  private volatile boolean resetAfterCancel;

  // frames read on this loop for a client on another loop, sent over at channelReadComplete
  private @Nullable List<ByteBuf> crossLoopFrames;
  private @Nullable ClientConnection crossLoopTarget;
  private @Nullable ClientConnection sameLoopTarget;

  public ServerConnection(Pooler pooler, Pool pool, long id, Channel channel) {
    this.pooler = pooler;
    this.pool = pool;
    this.id = id;
    this.channel = channel;
    this.generation = pool.generation();
  }

  public long id() {
    return id;
  }

  public Channel channel() {
    return channel;
  }

  public EventLoop eventLoop() {
    return channel.eventLoop();
  }

  public ServerState state() {
    return state;
  }

  public boolean isClosed() {
    return closed;
  }

  public int processId() {
    return processId;
  }

  public int secretKey() {
    return secretKey;
  }

  /** The server's current values of the parameters it reports (owned like the relay state). */
  public Map<String, String> parameters() {
    return parameters;
  }

  public AtomicInteger cancelsInFlight() {
    return cancelsInFlight;
  }

  // --- state changes, made by the pool under its lock or by the link owner ---

  public void markActive() {
    transition(ServerState.ACTIVE);
  }

  public void markTested() {
    transition(ServerState.TESTED);
  }

  public void markIdle() {
    transition(ServerState.IDLE);
    idleSinceNanos = System.nanoTime();
  }

  /**
   * PgBouncer's {@code close_needed}: opened before the pool's last RECONNECT, so closed instead of
   * going back to the pool.
   */
  public boolean closeNeeded() {
    return generation != pool.generation();
  }

  /** True once a client was linked to it; only such servers get server_check_query. */
  public boolean wasUsed() {
    return used;
  }

  /** When this server last went idle (System.nanoTime()). */
  public long idleSinceNanos() {
    return idleSinceNanos;
  }

  /** When this connection was opened (System.nanoTime()). */
  public long createdNanos() {
    return createdNanos;
  }

  /** Called by the pool under its lock: true the first time, so the server is uncounted once. */
  public boolean uncount() {
    boolean was = counted;
    counted = false;
    return was;
  }

  private void transition(ServerState next) {
    ServerState current = state;
    if (current == ServerState.CLOSED) {
      return;
    }
    if (!current.canMoveTo(next)) {
      throw new IllegalStateException(prefix() + " cannot move from " + current + " to " + next);
    }
    state = next;
  }

  // --- link, used by the client on its own event loop ---

  /** Links this server to {@code owner}; false when the server closed meanwhile. */
  public boolean link(ClientConnection owner) {
    client = owner;
    lastUsedMillis = System.currentTimeMillis();
    used = true;
    syncsOutstanding = 0;
    pendingSinceSync = false;
    copyIn = false;
    syncsSinceExecute = 0;
    copyEndedSinceExecute = false;
    hiddenReplies = 0;
    statements.linked();
    transactionStatus = 'I';
    return !closed; // read after the write: pairs with channelInactive's write-then-read
  }

  public void unlink() {
    client = null;
  }

  public @Nullable ClientConnection client() {
    return client;
  }

  /** Counts a client message forwarded to this server: sync points expect one ReadyForQuery. */
  public void countForwarded(char type) {
    switch (type) {
      case 'S' -> {
        pendingSinceSync = false;
        if (copyIn) {
          return; // PostgreSQL ignores it: no ReadyForQuery will answer it
        }
        syncsOutstanding++;
        syncPointsSent++;
        if (!copyEndedSinceExecute) {
          syncsSinceExecute++;
        }
      }
      case 'Q', 'F' -> {
        syncsOutstanding++;
        syncPointsSent++;
        pendingSinceSync = false;
        syncsSinceExecute = 0;
        copyEndedSinceExecute = false;
      }
      case 'E' -> {
        pendingSinceSync = true;
        syncsSinceExecute = 0;
        copyEndedSinceExecute = false;
      }
      case 'P', 'B', 'D', 'C', 'H' -> pendingSinceSync = true;
      case 'c', 'f' -> { // CopyDone, CopyFail: copy-in ends, Syncs count again
        copyIn = false;
        copyEndedSinceExecute = true;
      }
      default -> {}
    }
  }

  /**
   * PostgreSQL answered CopyInResponse (or CopyBothResponse): it is in copy-in mode, where it
   * ignores Sync, as the protocol allows clients to send one after every Execute. The COPY was
   * started by the last Execute or Query forwarded (during copy-in nothing else is valid), so the
   * Syncs forwarded since then, before any CopyDone or CopyFail, will get no ReadyForQuery; nor
   * will those forwarded until the copy ends. libpq sends such a Sync, then another after CopyDone.
   */
  public void copyInStarted() {
    syncsOutstanding -= syncsSinceExecute;
    syncPointsSent -= syncsSinceExecute;
    syncsSinceExecute = 0;
    copyIn = !copyEndedSinceExecute;
  }

  /** An ErrorResponse ends copy-in mode on PostgreSQL's side: Syncs count again. */
  public void errorReceived() {
    copyIn = false;
  }

  /** Sends a query whose replies the client never sees (parameter sync before its own frames). */
  public void sendHidden(String sql) {
    hiddenReplies++;
    channel.write(new Query(sql).encodeTo(channel.alloc().ioBuffer()));
  }

  /** The session settings jbouncer replayed or read back on this server. */
  public Map<String, String> sessionSettings() {
    return sessionSettings;
  }

  public void sessionSettings(Map<String, String> settings) {
    sessionSettings = settings;
  }

  private static boolean isResetAll(ByteBuf commandComplete) {
    return CommandComplete.decode(commandComplete).tag().equals("RESET");
  }

  /** True while replies to a hidden query are still due; they are swallowed by the relay. */
  public boolean expectsHiddenReply() {
    return hiddenReplies > 0;
  }

  /** A ReadyForQuery answered a hidden query. */
  public void hiddenReplyDone() {
    hiddenReplies--;
  }

  /** Records a ReadyForQuery for a forwarded sync point. */
  public void readyForQuery(char status) {
    syncsOutstanding--;
    syncPointsAnswered++;
    transactionStatus = status;
  }

  /** Idle ('I'), every sync point answered, nothing forwarded since the last one. */
  public boolean isClean() {
    return transactionStatus == 'I'
        && syncsOutstanding <= 0
        && !pendingSinceSync
        && hiddenReplies == 0
        && statements.isSettled();
  }

  /** Its prepared statements and the replies they are owed (linked client's loop). */
  public ServerStatements statements() {
    return statements;
  }

  /** Sync points forwarded so far: the epoch of what is forwarded now. */
  public long syncPointsSent() {
    return syncPointsSent;
  }

  /** Sync points answered so far: the epoch an ErrorResponse arriving now belongs to. */
  public long syncPointsAnswered() {
    return syncPointsAnswered;
  }

  public boolean hasOutstandingRequests() {
    return syncsOutstanding > 0 || pendingSinceSync;
  }

  /**
   * Returns a clean server to the pool; with {@code reset} it first runs {@code server_reset_query}
   * (PgBouncer does in session mode) and goes back when the server answers.
   */
  public void release(boolean reset) {
    unlink();
    lastUsedMillis = System.currentTimeMillis();
    String resetQuery = pooler.settings().serverResetQuery();
    if (reset && !resetQuery.isBlank() && !closeNeeded()) { // no reset for a server to close
      transition(ServerState.TESTED);
      resetting = true;
      channel.writeAndFlush(new Query(resetQuery).encodeTo(channel.alloc().ioBuffer()));
      return;
    }
    pool.release(this);
  }

  /**
   * Parks an unlinked server in {@code being_canceled} while cancel requests for its last client
   * are in flight, so a late cancel cannot hit the next client's query. Returns false when the last
   * cancel already finished and the caller must release the server itself.
   */
  public boolean holdForCancel(boolean reset) {
    transition(ServerState.BEING_CANCELED);
    resetAfterCancel = reset;
    releaseAfterCancel.set(true);
    // write-then-read, paired with cancelFinished's decrement-then-CAS: exactly one side releases
    return cancelsInFlight.get() != 0 || !releaseAfterCancel.compareAndSet(true, false);
  }

  /** A cancel request sent for this server's client is done (PostgreSQL closed its connection). */
  public void cancelFinished() {
    if (cancelsInFlight.decrementAndGet() == 0 && releaseAfterCancel.compareAndSet(true, false)) {
      eventLoop().execute(() -> release(resetAfterCancel));
    }
  }

  /**
   * Runs {@code server_check_query} on this idle server and then hands it to {@code client}; if the
   * check fails the server closes first, so the hand-over fails to link and the client waits for
   * another server.
   */
  public void check(String sql, ClientConnection client) {
    checkingFor = client;
    channel.writeAndFlush(new Query(sql).encodeTo(channel.alloc().ioBuffer()));
  }

  private void checkDone() {
    ClientConnection client = checkingFor;
    checkingFor = null;
    if (client != null) {
      if (!closed) {
        transition(ServerState.ACTIVE);
      }
      client.eventLoop().execute(() -> client.serverAssigned(this));
    }
  }

  /** Closes the connection, logging PgBouncer's "closing because" line. */
  public void close(String reason) {
    if (closed || !closeRequested.compareAndSet(false, true)) {
      return; // closed, or closing already: said once why
    }
    if (pooler.settings().logDisconnections()) {
      log.info("{} closing because: {} (age={}s)", prefix(), reason, ageSeconds());
    }
    if (state != ServerState.LOGIN && channel.isActive()) {
      channel.writeAndFlush(Terminate.FRAME.duplicate());
    }
    channel.close();
  }

  // --- channel events ---

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    long timeoutMillis = pooler.settings().serverConnectTimeout().toMillis();
    if (timeoutMillis > 0) {
      ctx.executor()
          .schedule(
              () -> {
                if (state == ServerState.LOGIN && !closed) {
                  loginLost("connect timeout");
                }
              },
              timeoutMillis,
              java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    Map<String, String> startup = new LinkedHashMap<>();
    startup.put("user", pool.key().user());
    startup.put("database", pool.serverDbname());
    startup.putAll(pool.database().startupParameters());
    ctx.writeAndFlush(new Startup(startup).encodeTo(ctx.alloc().ioBuffer()));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf frame = (ByteBuf) msg;
    if (state == ServerState.LOGIN) {
      try {
        if (Frames.isWhole(frame)) { // login messages are all kept whole (KEEP_WHOLE)
          onLoginFrame(frame);
        } else {
          loginLost("server login failed: unexpected message '" + Frames.type(frame) + "'");
        }
      } finally {
        frame.release();
      }
      return;
    }
    ClientConnection target = client;
    if (target == null) {
      onUnlinkedFrame(frame);
    } else if (target.eventLoop() == ctx.channel().eventLoop()) {
      ClientConnection previous = sameLoopTarget;
      if (previous != null && previous != target) {
        // one read batch can hold the end of one client's reply and, once the server went to the
        // next client in line on this loop, that client's reply: the first must not wait for a
        // flush that channelReadComplete would only give the last
        previous.flush();
      }
      sameLoopTarget = target;
      target.onServerFrame(this, frame);
    } else {
      if (crossLoopTarget != null && crossLoopTarget != target) {
        sendCrossLoop();
      }
      if (crossLoopFrames == null) {
        crossLoopFrames = new ArrayList<>(8);
      }
      crossLoopTarget = target;
      crossLoopFrames.add(frame);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    sendCrossLoop();
    ClientConnection target = sameLoopTarget;
    if (target != null) {
      sameLoopTarget = null;
      target.flush();
    }
  }

  private void sendCrossLoop() {
    List<ByteBuf> frames = crossLoopFrames;
    ClientConnection target = crossLoopTarget;
    if (frames == null || target == null) {
      return;
    }
    crossLoopFrames = null;
    crossLoopTarget = null;
    target.eventLoop().execute(() -> target.onServerFrames(this, frames));
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    ClientConnection target = client;
    if (target != null && ctx.channel().isWritable()) {
      target.serverWritable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    boolean wasLogin = state == ServerState.LOGIN;
    closed = true;
    state = ServerState.CLOSED;
    List<ByteBuf> pending = crossLoopFrames;
    ClientConnection pendingTarget = crossLoopTarget;
    crossLoopFrames = null;
    crossLoopTarget = null;
    if (pending != null && pendingTarget != null) {
      pendingTarget.eventLoop().execute(() -> pendingTarget.onServerFrames(this, pending));
    }
    if (wasLogin) {
      loginLost("server conn crashed?"); // PgBouncer's words for a connection lost in login
      return;
    }
    if (closeRequested.compareAndSet(false, true) // not closed by us: PostgreSQL went away
        && pooler.settings().logDisconnections()) {
      log.info("{} closing because: server conn crashed? (age={}s)", prefix(), ageSeconds());
    }
    pool.remove(this);
    checkDone(); // a client waiting on this server's check gets it, fails to link, queues again
    ClientConnection owner = client; // read after writing closed: pairs with link()
    if (owner != null) {
      owner.eventLoop().execute(() -> owner.serverClosed(this));
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable root =
        cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    if (state == ServerState.LOGIN) {
      loginLost(
          root instanceof IOException
              ? "server conn crashed?"
              : "server login failed: " + root.getMessage());
    } else {
      close("server conn crashed? " + root.getMessage());
    }
    ctx.close();
  }

  /** The TCP connect did not succeed (refused, unreachable, or not within the timeout). */
  public void connectFailed(Throwable cause) {
    state = ServerState.CLOSED;
    log.debug("{} connect failed: {}", prefix(), cause.toString());
    // PgBouncer's words, which become the cached error of server_login_retry
    loginLost(
        cause instanceof UnknownHostException ? "server DNS lookup failed" : "connect failed");
  }

  // --- login ---

  private void onLoginFrame(ByteBuf frame) {
    BackendLogin conversation = login;
    if (conversation == null) {
      conversation =
          new BackendLogin(
              pooler,
              channel,
              pool.key().user(),
              pool.serverPassword(),
              new BackendLogin.Outcome() {
                @Override
                public void ready(BackendLogin done) {
                  processId = done.processId();
                  secretKey = done.secretKey();
                  done.parameters().forEach(ServerConnection.this::parameterChanged);
                  login = null;
                  log.debug("{} login ok, server process {}", prefix(), processId);
                  state = ServerState.ACTIVE; // the pool moves it to idle or a waiting client
                  pool.loggedIn(ServerConnection.this, parameters);
                }

                @Override
                public void failed(ByteBuf errorFrame, String message) {
                  loginRefused(errorFrame, message);
                }
              });
      login = conversation;
    }
    conversation.onFrame(frame);
  }

  private boolean loginFailureReported;

  /**
   * The login failed on the way (connect refused or timed out, connection lost): the pool's waiting
   * clients stay queued for its next attempt.
   */
  private void loginLost(String message) {
    if (loginFailureReported) {
      return;
    }
    loginFailureReported = true;
    closed = true;
    log.warn("{} closing because: {} (age={}s)", prefix(), message, ageSeconds());
    pool.loginFailed(this, null, message);
    channel.close();
  }

  /**
   * PostgreSQL refused the login, or we cannot do the login it asks for: the pool's waiting clients
   * get {@code errorFrame} (we own it). "Cannot connect now" (57P03: starting up, shutting down, in
   * recovery) is a passing state: waiting clients stay queued, as in PgBouncer.
   */
  private void loginRefused(ByteBuf errorFrame, String message) {
    if (loginFailureReported) {
      errorFrame.release();
      return;
    }
    if (SqlState.CANNOT_CONNECT_NOW.equals(ErrorResponse.decode(errorFrame).code())) {
      errorFrame.release();
      loginLost(message);
      return;
    }
    loginFailureReported = true;
    closed = true;
    log.warn(
        "{} closing because: server login failed: {} (age={}s)", prefix(), message, ageSeconds());
    pool.loginFailed(this, errorFrame, message);
    channel.close();
  }

  // --- frames that arrive while no client is linked ---

  private void onUnlinkedFrame(ByteBuf frame) {
    try {
      if (frame instanceof FrameContinuation) {
        if (checkingFor == null && !resetting) {
          close("idle server got unexpected data");
        }
        return; // else the rest of a large row of the check or reset query: not needed
      }
      char type = Frames.type(frame);
      if (checkingFor != null) {
        if (type == 'Z' && ReadyForQuery.status(frame) == 'I') {
          checkDone();
        } else if (type == 'Z') {
          close("server check query left a transaction open");
        } else if (type == 'E') {
          close("server check query failed: " + ErrorResponse.decode(frame).message());
        }
        return;
      }
      if (resetting) {
        if (type == 'Z') {
          resetting = false;
          transactionStatus = ReadyForQuery.status(frame);
          if (transactionStatus == 'I') {
            pool.release(this);
          } else {
            close("server_reset_query left the server in a transaction");
          }
        } else if (type == 'E') {
          close("server_reset_query failed: " + ErrorResponse.decode(frame).message());
        } else if (type == 'S') {
          rememberParameter(frame);
        } else if (type == 'C' && ServerStatements.isReset(frame)) {
          statements.forgetAll(); // server_reset_query = DISCARD ALL
          if (ServerStatements.isDiscardAll(frame)) {
            sessionSettings = Map.of();
          }
        } else if (type == 'C' && isResetAll(frame)) {
          sessionSettings = Map.of(); // server_reset_query = RESET ALL
        }
        return;
      }
      switch (type) {
        case 'S' -> rememberParameter(frame);
        case 'N' ->
            log.debug("{} notice while idle: {}", prefix(), ErrorResponse.decode(frame).message());
        case 'E' -> close("server error while idle: " + ErrorResponse.decode(frame).message());
        default -> close("idle server got unexpected message '" + type + "'");
      }
    } finally {
      frame.release();
    }
  }

  /** Records a ParameterStatus the server sent. */
  public void rememberParameter(ByteBuf frame) {
    ParameterStatus status = ParameterStatus.decode(frame);
    parameterChanged(status.name(), status.value());
  }

  /** The server reported a parameter's new value (by the thread that owns the relay state). */
  public void parameterChanged(String name, String value) {
    parameters.put(name, value);
    if (name.equals("application_name")) {
      applicationName = value;
    }
  }

  /**
   * This connection as SHOW SERVERS shows it; any thread (what it reads is immutable or volatile).
   *
   * @param checkDelayNanos server_check_delay: an idle server unused longer is shown as {@code
   *     used}
   */
  public ServerSnapshot snapshot(long checkDelayNanos) {
    ServerState current = state;
    String shown = current.showName();
    if (current == ServerState.IDLE
        && used
        && System.nanoTime() - idleSinceNanos >= checkDelayNanos) {
      shown = "used";
    }
    ClientConnection owner = client;
    return new ServerSnapshot(
        id,
        pool.key().user(),
        pool.key().database(),
        shown,
        channel.remoteAddress(),
        channel.localAddress(),
        createdMillis,
        lastUsedMillis,
        closeNeeded(),
        owner == null ? 0 : owner.id(),
        processId,
        applicationName,
        statements.count(),
        ClientConnection.pendingWriteBytes(channel));
  }

  public String prefix() {
    SocketAddress remote = channel.remoteAddress();
    if (remote == null) { // not connected (yet): the address it is meant for
      remote =
          InetSocketAddress.createUnresolved(
              String.valueOf(pool.database().host()), pool.database().port());
    }
    return Conn.prefix('S', id, pool.key().database(), pool.key().user(), remote);
  }

  private long ageSeconds() {
    return (System.nanoTime() - createdNanos) / 1_000_000_000L;
  }
}

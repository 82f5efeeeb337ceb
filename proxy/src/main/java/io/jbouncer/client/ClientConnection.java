package io.jbouncer.client;

import io.jbouncer.Pooler;
import io.jbouncer.admin.Admin;
import io.jbouncer.admin.AdminConsole;
import io.jbouncer.auth.ClientAuthenticator;
import io.jbouncer.config.DatabaseSettings;
import io.jbouncer.config.PoolMode;
import io.jbouncer.config.SessionStatePolicy;
import io.jbouncer.config.Settings;
import io.jbouncer.log.Conn;
import io.jbouncer.pool.Pool;
import io.jbouncer.pool.PoolStats;
import io.jbouncer.prepared.ClientStatements;
import io.jbouncer.prepared.PreparedStatement;
import io.jbouncer.prepared.ServerStatements;
import io.jbouncer.protocol.FrameContinuation;
import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.jbouncer.protocol.SqlState;
import io.jbouncer.protocol.StartupPacket;
import io.jbouncer.protocol.backend.AuthenticationOk;
import io.jbouncer.protocol.backend.BackendKeyData;
import io.jbouncer.protocol.backend.CommandComplete;
import io.jbouncer.protocol.backend.ErrorResponse;
import io.jbouncer.protocol.backend.NegotiateProtocolVersion;
import io.jbouncer.protocol.backend.NoticeResponse;
import io.jbouncer.protocol.backend.ParameterStatus;
import io.jbouncer.protocol.backend.ReadyForQuery;
import io.jbouncer.protocol.frontend.Query;
import io.jbouncer.server.ServerConnection;
import io.jbouncer.server.ServerState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: startup, authentication, and the client half of the relay.
 *
 * <p>Threading: everything here runs on the client channel's event loop, including the relay state
 * of the linked server (see {@link ServerConnection}). Other threads reach a client only through
 * {@code eventLoop().execute(...)}.
 *
 * <p>Buffers: each frame from the decoder is owned by this handler until it is written to the
 * server (the write releases it), queued in {@link #pending} (released on close), or released here.
 */
public final class ClientConnection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

  /**
   * PgBouncer's MAX_PASSWORD (65531) plus the frame header: longer password messages are refused.
   */
  static final int MAX_PASSWORD_FRAME = 65531 + Frames.HEADER_LENGTH;

  /**
   * Client frames this handler reads whole: password and SASL messages, and Parse, Bind, Describe
   * and Close, whose statement names prepared-statement tracking reads and rewrites (a Bind with
   * large parameters is buffered whole, as in PgBouncer); others larger than {@code pkt_buf} are
   * forwarded in pieces as they arrive.
   */
  public static final String KEEP_WHOLE = "pPBDC";

  private final Pooler pooler;
  private Settings settings; // the running settings when it connected, or since the last RELOAD
  private final long id;
  private @Nullable Channel channel;
  private volatile ClientState state = ClientState.LOGIN;
  private @Nullable String user;
  private @Nullable String databaseName;
  private @Nullable DatabaseSettings database;
  private @Nullable ClientAuthenticator authenticator;
  private @Nullable Pool pool;
  private @Nullable ServerConnection server;
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
  private final ClientStatements statements = new ClientStatements();
  // transaction/statement mode: why this client keeps its server between transactions, if it does
  private @Nullable String pinnedFor;
  // transaction/statement mode: ask the server what of the session lives on it (SessionCheck)
  // before it goes back, because a statement may have changed settings, or ended what pins
  private boolean settingsMayHaveChanged;
  private boolean pinMayHaveEnded;
  private @Nullable SessionCheck sessionCheck; // its answer, while it is on its way
  // lone SETs, whose text replays them once they are sure to be in the session
  private final LoneSets loneSets = new LoneSets();
  // the lone SET of the Parse being forwarded, kept with its statement for its Binds
  private @Nullable String loneSetParsed;
  // tracked parameters a hidden sync is setting: their server spelling is taken at its end
  private @Nullable List<String> syncedParameters;
  // the sync point of a lone RESET or DISCARD ALL on its way (0: none): the server reports its own
  // defaults, the client gets its startup values (SessionFeatures.isLoneReset)
  private long resetSyncPoint;
  // the settings of its own that this client's session has (see SessionCheck): immutable; at
  // first and after DISCARD ALL, the tracked startup parameters PostgreSQL does not report
  private Map<String, String> sessionSettings = Map.of();
  private Map<String, String> startupSettings = Map.of();
  // defer_begin: the BEGIN this client was told succeeded, to send ahead of its next statement
  private @Nullable String deferredBegin;

  /** Tracked parameters this client wants on every server (startup values, then its own SETs). */
  private final Map<String, String> wantedParameters = new LinkedHashMap<>();

  private final Map<String, String> startupParameters = new LinkedHashMap<>();

  /** The tracked parameters as the welcome gave them: what RESET ALL (and DISCARD ALL) restore. */
  private Map<String, String> sessionDefaults = Map.of();

  private long waitingSinceNanos;
  private final long connectedAtMillis = System.currentTimeMillis();
  // SHOW STATS: this loop's counters of the pool, and when the query and transaction now running
  // started (System.nanoTime(), 0 = none), as PgBouncer's query_start and xact_start
  private @Nullable PoolStats stats;
  private long statsQueryStartNanos;
  private long statsXactStartNanos;
  // the admin console, for a client of the database "pgbouncer"
  private boolean adminDatabase;
  private @Nullable AdminConsole admin;
  // a connection that carries a cancel request: its state and its target, for SHOW CLIENTS
  private volatile @Nullable String cancelState; // active_cancel_req, waiting_cancel_req
  private volatile @Nullable ClientConnection cancelTarget;
  private long cancelKey;
  private @Nullable ScheduledFuture<?> loginTimeout;
  private boolean counted;
  private boolean admitted; // counted by Pooler.admitClient
  private boolean closing; // we are closing it, and said why
  private boolean terminated; // the client sent Terminate
  // timeouts (see checkTimeouts), all System.nanoTime() values
  private ClientTimeouts timeouts = new ClientTimeouts(0, 0, 0, 0, 0);
  private long lastRequestNanos = System.nanoTime();
  private long queryStartNanos;
  private long transactionStartNanos;
  private long idleInTransactionSinceNanos;
  private long queryWaitNotifyNanos;
  private boolean queuedNoticeSent;

  public ClientConnection(Pooler pooler, long id) {
    this.pooler = pooler;
    this.settings = pooler.settings();
    this.id = id;
    this.queryWaitNotifyNanos = settings.queryWaitNotify().toNanos();
  }

  public long id() {
    return id;
  }

  public EventLoop eventLoop() {
    return channel().eventLoop();
  }

  public ClientState state() {
    return state;
  }

  public long waitingSinceNanos() {
    return waitingSinceNanos;
  }

  public Channel channel() {
    Channel ch = channel;
    if (ch == null) {
      throw new IllegalStateException("not registered");
    }
    return ch;
  }

  // --- channel events ---

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    counted = true;
    pooler.clientOpened();
    pooler.loopClients(ctx.channel().eventLoop()).add(this);
    long timeout = settings.clientLoginTimeout().toMillis();
    if (timeout > 0) {
      loginTimeout =
          ctx.executor()
              .schedule(
                  () -> {
                    if (state == ClientState.LOGIN) {
                      // authenticated clients wait for a server login to give them the welcome
                      fatal(
                          SqlState.PROTOCOL_VIOLATION,
                          pool != null
                              ? "client_login_timeout (server down)"
                              : "client_login_timeout");
                    }
                  },
                  timeout,
                  TimeUnit.MILLISECONDS);
    }
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof StartupPacket packet) {
      onStartupPacket(packet);
      return;
    }
    ByteBuf frame = (ByteBuf) msg;
    if (state == ClientState.CLOSED) {
      frame.release();
    } else if (state == ClientState.LOGIN) {
      onLoginFrame(frame);
    } else {
      onClientFrame(frame);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ServerConnection linked = server;
    if (linked != null) {
      linked.channel().flush();
    }
    ctx.flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    ServerConnection linked = server;
    if (linked != null && ctx.channel().isWritable()) {
      read(linked.channel(), true);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable root =
        cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    if (root instanceof ProtocolException) {
      fatal(SqlState.PROTOCOL_VIOLATION, root.getMessage());
      return;
    }
    if (closing) {
      return; // writes that were already queued fail one by one: one line is enough
    }
    closing = true;
    if (root instanceof IOException) {
      logClose("client unexpected eof (" + root.getMessage() + ")");
    } else {
      log.warn("{} closing because: {}", prefix(), root.toString(), root); // a bug of ours
    }
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ClientState was = state;
    state = ClientState.CLOSED;
    if (counted) {
      counted = false;
      pooler.clientClosed();
      pooler.loopClients(ctx.channel().eventLoop()).remove(this);
    }
    if (admitted) {
      admitted = false;
      pooler.releaseClientCaps(databaseName, user);
    }
    if (loginTimeout != null) {
      loginTimeout.cancel(false);
    }
    if (cancelKey != 0) {
      pooler.cancelKeys().remove(cancelKey, this);
    }
    releasePending();
    if (pool != null) {
      pool.clientLeft(this); // it may wait for a server or for its welcome, too
    }
    if (admin != null) {
      admin.closed();
    }
    ServerConnection linked = server;
    server = null;
    if (linked != null) {
      releaseOrClose(linked);
    }
    if (was != ClientState.LOGIN && !closing) {
      // we did not close it (that was logged with its reason): the client did
      logClose(
          terminated
              ? "client close request"
              : pooler.isClosing() ? "pooler is shutting down" : "client unexpected eof");
    }
    ctx.fireChannelInactive();
  }

  private void releaseOrClose(ServerConnection linked) {
    if (linked.isClean() && pinnedFor != null && settings.serverResetQuery().isBlank()) {
      linked.unlink();
      linked.close("pinned client left and no server_reset_query clears its " + pinnedFor);
    } else if (linked.isClean()) {
      boolean reset =
          pool.poolMode() == PoolMode.SESSION
              || settings.serverResetQueryAlways()
              || pinnedFor != null; // its LISTEN, locks, temp tables... must not reach the next
      releaseServer(linked, reset);
    } else if (linked.hasOutstandingRequests()) {
      linked.unlink();
      linked.close("client disconnected with query in progress");
    } else {
      linked.unlink();
      linked.close("client disconnect while server was not ready");
    }
  }

  // --- startup phase ---

  private void onStartupPacket(StartupPacket packet) {
    if (packet instanceof StartupPacket.StartupMessage startup) {
      onStartupMessage(startup);
    } else if (packet instanceof StartupPacket.CancelRequest cancel) {
      pooler.cancel(cancel.key(), this);
    } else {
      // SSLRequest and GSSENCRequest: neither is offered yet; the client goes on unencrypted
      channel().writeAndFlush(channel().alloc().buffer(1).writeByte('N'));
    }
  }

  private void onStartupMessage(StartupPacket.StartupMessage startup) {
    if (startup.majorVersion() != 3) {
      fatal(
          SqlState.FEATURE_NOT_SUPPORTED,
          "unsupported frontend protocol "
              + startup.majorVersion()
              + "."
              + startup.minorVersion()
              + ": server supports 3.0 to 3.0");
      return;
    }
    List<String> unsupportedOptions = new ArrayList<>();
    for (Map.Entry<String, String> e : startup.parameters().entrySet()) {
      String key = e.getKey();
      String value = e.getValue();
      switch (key) {
        case "user" -> user = value;
        case "database" -> databaseName = value;
        case "options" -> {
          if (!acceptOptions(value)) {
            return;
          }
        }
        default -> {
          if (key.startsWith("_pq_.")) {
            unsupportedOptions.add(key);
            continue;
          }
          String tracked = TrackedParameters.canonical(key, settings.trackExtraParameters());
          if (tracked != null) {
            startupParameters.put(tracked, value);
          } else if (!settings.ignoreStartupParameters().contains(key)) {
            fatal(SqlState.PROTOCOL_VIOLATION, "unsupported startup parameter: " + key);
            return;
          }
        }
      }
    }
    if (startup.minorVersion() > 0 || !unsupportedOptions.isEmpty()) {
      channel()
          .write(
              new NegotiateProtocolVersion(0, unsupportedOptions)
                  .encodeTo(channel().alloc().ioBuffer()));
    }
    if (user == null || user.isEmpty()) {
      fatal(SqlState.PROTOCOL_VIOLATION, "no username supplied");
      return;
    }
    if (databaseName == null || databaseName.isEmpty()) {
      databaseName = user;
    }
    if (databaseName.equals(Admin.DATABASE)) {
      // the admin console: no max_client_conn nor client caps, as in PgBouncer
      adminDatabase = true;
      if (settings.logConnections()) {
        log.info("{} login attempt: db={} user={} tls=no", prefix(), databaseName, user);
      }
      java.net.SocketAddress remote = channel().remoteAddress();
      startAuthentication(
          pooler.authenticatorFor(
              user,
              databaseName,
              remote instanceof java.net.InetSocketAddress inet ? inet.getAddress() : null));
      return;
    }
    if (pooler.clientCount() > settings.maxClientConn()) {
      fatal(SqlState.PROTOCOL_VIOLATION, "no more connections allowed (max_client_conn)");
      return;
    }
    database = settings.database(databaseName);
    if (database == null) {
      fatal(SqlState.PROTOCOL_VIOLATION, "no such database: " + databaseName);
      return;
    }
    String refused = pooler.admitClient(databaseName, database, user);
    if (refused != null) {
      fatal(SqlState.PROTOCOL_VIOLATION, refused);
      return;
    }
    admitted = true;
    if (settings.logConnections()) {
      log.info("{} login attempt: db={} user={} tls=no", prefix(), databaseName, user);
    }
    java.net.SocketAddress remote = channel().remoteAddress();
    CompletableFuture<ClientAuthenticator> auth =
        pooler.authenticate(
            user,
            databaseName,
            database,
            remote instanceof java.net.InetSocketAddress inet ? inet.getAddress() : null);
    ClientAuthenticator ready = auth.getNow(null);
    if (ready != null) {
      startAuthentication(ready); // no auth_query: no hop
      return;
    }
    auth.whenComplete(
        (authenticator, failure) ->
            eventLoop()
                .execute(
                    () -> {
                      if (failure != null) {
                        Throwable cause =
                            failure instanceof java.util.concurrent.CompletionException
                                    && failure.getCause() != null
                                ? failure.getCause()
                                : failure;
                        fatal(
                            SqlState.PROTOCOL_VIOLATION,
                            "auth_query failed: " + cause.getMessage());
                      } else if (isLoggingIn()) {
                        startAuthentication(authenticator);
                      }
                    }));
  }

  private void startAuthentication(ClientAuthenticator auth) {
    authenticator = auth;
    auth.start(this);
  }

  /** Accepts {@code -c key=value} options for tracked parameters, as PgBouncer does. */
  private boolean acceptOptions(String options) {
    if (settings.ignoreStartupParameters().contains("options")) {
      return true;
    }
    for (Map.Entry<String, String> option : StartupOptions.parse(options).entrySet()) {
      String tracked =
          TrackedParameters.canonical(option.getKey(), settings.trackExtraParameters());
      if (tracked == null) {
        fatal(
            SqlState.PROTOCOL_VIOLATION,
            "unsupported startup parameter in options: " + option.getKey());
        return false;
      }
      startupParameters.put(tracked, option.getValue());
    }
    return true;
  }

  private void onLoginFrame(ByteBuf frame) {
    try {
      ClientAuthenticator auth = authenticator;
      if (frame instanceof FrameContinuation) {
        if (auth != null && !auth.expectsPassword()) {
          pending.add(frame.retain()); // the rest of a large pipelined frame
        }
        return; // else its start was refused and this connection is closing
      }
      char type = Frames.type(frame);
      if (type == 'X') {
        channel().close();
      } else if (type == 'p' && frame.readableBytes() > MAX_PASSWORD_FRAME) {
        fatal(
            SqlState.PROTOCOL_VIOLATION,
            "password packet length: "
                + frame.readableBytes()
                + " (expected: <= "
                + MAX_PASSWORD_FRAME
                + ")");
      } else if (type == 'p' && auth != null && auth.expectsPassword()) {
        auth.onPassword(this, frame);
      } else if (auth != null && !auth.expectsPassword()) {
        // authenticated and waiting for the welcome: keep the client's pipelined frames
        pending.add(frame.retain());
      } else {
        fatal(
            SqlState.PROTOCOL_VIOLATION,
            "expected password response, got message type " + (int) type);
      }
    } finally {
      frame.release();
    }
  }

  /** Called by the authenticator when the client proved who it is. */
  public void authenticated() {
    if (!adminDatabase && pooler.isDisabled(databaseName)) {
      fatal(SqlState.PROTOCOL_VIOLATION, "database \"" + databaseName + "\" is disabled");
      return;
    }
    if (adminDatabase) {
      admin = pooler.admin().open(this, user);
      if (admin == null) {
        fatal(SqlState.PROTOCOL_VIOLATION, "not allowed");
        return;
      }
      welcome(Admin.WELCOME_PARAMETERS);
      return;
    }
    timeouts = ClientTimeouts.resolve(settings, settings.users().get(user), database);
    String poolUser = database.user() != null ? database.user() : user;
    Pool target = pooler.pool(database, databaseName, poolUser);
    pool = target;
    stats = target.stats(eventLoop());
    stats.clientLogins++;
    target.awaitWelcome(this);
  }

  /** Sends AuthenticationOk, the server parameters, our cancel key and ReadyForQuery. */
  public void welcome(Map<String, String> serverParameters) {
    if (state != ClientState.LOGIN) {
      return;
    }
    if (loginTimeout != null) {
      loginTimeout.cancel(false);
    }
    Channel ch = channel();
    for (Map.Entry<String, String> e : serverParameters.entrySet()) {
      if (TrackedParameters.canonical(e.getKey(), settings.trackExtraParameters()) != null) {
        wantedParameters.put(e.getKey(), e.getValue());
      }
    }
    Map<String, String> unreported = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : startupParameters.entrySet()) {
      if (serverParameters.containsKey(e.getKey())) {
        wantedParameters.put(e.getKey(), e.getValue());
      } else { // tracked by track_extra_parameters, but PostgreSQL does not report it
        String name = e.getKey().toLowerCase(Locale.ROOT);
        unreported.put(name, "SELECT " + SessionCheck.setConfig(name, e.getValue()));
      }
    }
    startupSettings = Collections.unmodifiableMap(unreported);
    sessionSettings = startupSettings;
    if (settings.applicationNameAddHost()) {
      String app = wantedParameters.getOrDefault("application_name", "");
      wantedParameters.put(
          "application_name",
          (app.isEmpty() ? "app" : app) + " - " + Conn.address(ch.remoteAddress()));
    }
    sessionDefaults = Map.copyOf(wantedParameters);
    Map<String, String> shown = new LinkedHashMap<>(serverParameters);
    shown.putAll(wantedParameters);
    ch.write(new AuthenticationOk().encodeTo(ch.alloc().ioBuffer()));
    for (Map.Entry<String, String> e : shown.entrySet()) {
      ch.write(new ParameterStatus(e.getKey(), e.getValue()).encodeTo(ch.alloc().ioBuffer()));
    }
    cancelKey = pooler.registerCancelKey(this);
    ch.write(BackendKeyData.ofKey(cancelKey).encodeTo(ch.alloc().ioBuffer()));
    ch.writeAndFlush(ReadyForQuery.IDLE_FRAME.duplicate());
    state = ClientState.ACTIVE;
    AdminConsole console = admin;
    if (console != null) {
      ByteBuf early;
      while ((early = pending.poll()) != null) {
        console.onFrame(early); // queries sent before the welcome
      }
    } else if (!pending.isEmpty()) {
      startWaiting();
    }
  }

  /** True until the welcome was sent (or the connection closed). */
  public boolean isLoggingIn() {
    return state == ClientState.LOGIN && !closing;
  }

  /** Logs why a login failed, with the detail the client is not told. */
  public void logAuthFailure(String detail) {
    log.info("{} login failed: {}", prefix(), detail);
  }

  /** Authentication failed, or the pool cannot log in: FATAL and close. */
  public void failLogin(String message) {
    fatal(SqlState.PROTOCOL_VIOLATION, message);
  }

  // --- relay, client to server ---

  private void onClientFrame(ByteBuf frame) {
    long now = System.nanoTime();
    lastRequestNanos = now;
    AdminConsole console = admin;
    if (console != null) {
      if (Frames.isWhole(frame) && Frames.type(frame) == 'X') {
        frame.release();
        terminated = true;
        channel().close();
      } else {
        console.onFrame(frame);
      }
      return;
    }
    PoolStats counters = stats;
    counters.clientBytes += frame.readableBytes();
    if (frame instanceof FrameContinuation) {
      // the rest of a large frame: it follows its start, which went (or waits) ahead of it
      ServerConnection linked = server;
      if (linked == null || !pending.isEmpty()) {
        pending.add(frame);
      } else {
        forward(linked, frame);
      }
      return;
    }
    char type = Frames.type(frame);
    if (type == 'X') {
      frame.release();
      terminated = true;
      channel().close();
      return;
    }
    if (statsQueryStartNanos == 0) { // PgBouncer counts a query, and a transaction, as they start
      counters.queries++;
      statsQueryStartNanos = now;
    }
    if (statsXactStartNanos == 0) {
      counters.xacts++;
      statsXactStartNanos = now;
    }
    if ((type == 'P' || type == 'B') && Frames.namesStatement(frame)) {
      if (type == 'P') {
        counters.clientParses++;
        if (!tracksStatements()) {
          counters.serverParses++; // forwarded as it is: every Parse reaches a server
        }
      } else {
        counters.binds++;
      }
    }
    ServerConnection linked = server;
    if (linked == null
        && type == 'Q'
        && pending.isEmpty()
        && state == ClientState.ACTIVE
        && pinnedFor == null
        && pool.poolMode() != PoolMode.SESSION
        && Frames.isWhole(frame)
        && answeredLocally(frame)) {
      frame.release();
      return;
    }
    if (linked == null || !pending.isEmpty()) {
      pending.add(frame);
      if (linked == null && state != ClientState.WAITING) {
        startWaiting();
      }
      return;
    }
    forward(linked, frame);
  }

  /**
   * A Query of a client without a server that jbouncer answers as PostgreSQL would, without one:
   * DISCARD ALL, and with defer_begin a bare BEGIN and the COMMIT or ROLLBACK right after it.
   */
  private boolean answeredLocally(ByteBuf query) {
    if (deferredBegin != null) {
      String tag = SessionFeatures.transactionEndTag(query);
      if (tag == null) {
        return false; // goes to a server, after the BEGIN
      }
      deferredBegin = null; // an empty transaction: nothing to commit or roll back
      reply(tag, 'I');
      return true;
    }
    if (SessionFeatures.isDiscardAll(query)) {
      discardAllLocally();
      return true;
    }
    String begin =
        settings.deferBegin() && pool.poolMode() == PoolMode.TRANSACTION
            ? SessionFeatures.deferrableBeginTag(query)
            : null;
    if (begin != null) {
      deferredBegin = Query.decode(query).sql();
      reply(begin, 'T');
      return true;
    }
    return false;
  }

  /** CommandComplete and ReadyForQuery, as PostgreSQL answers a command without rows. */
  private void reply(String tag, char status) {
    Channel ch = channel();
    ch.write(new CommandComplete(tag).encodeTo(ch.alloc().ioBuffer()));
    ch.writeAndFlush(
        (status == 'T' ? ReadyForQuery.IN_TRANSACTION_FRAME : ReadyForQuery.IDLE_FRAME)
            .duplicate());
    queryFinished(status);
  }

  /**
   * DISCARD ALL from a client with no server, outside a transaction and with no pinned session
   * state, as psycopg2's pool sends it at every borrow (Odoo, 3-4 times per request): no server
   * holds anything of this client's session, so resetting what jbouncer keeps for it is all that
   * DISCARD ALL would do. Answered here, as PostgreSQL answers it: CommandComplete, ParameterStatus
   * for each reported parameter it restores, ReadyForQuery.
   */
  private void discardAllLocally() {
    statements.clear();
    sessionSettings = startupSettings;
    Channel ch = channel();
    ch.write(new CommandComplete("DISCARD ALL").encodeTo(ch.alloc().ioBuffer()));
    for (Map.Entry<String, String> e : sessionDefaults.entrySet()) {
      String now = wantedParameters.put(e.getKey(), e.getValue());
      if (!e.getValue().equals(now)) {
        ch.write(new ParameterStatus(e.getKey(), e.getValue()).encodeTo(ch.alloc().ioBuffer()));
      }
    }
    ch.writeAndFlush(ReadyForQuery.IDLE_FRAME.duplicate());
    stats.discardsAnsweredLocally++;
    queryFinished('I');
  }

  private void forward(ServerConnection linked, ByteBuf frame) {
    Channel serverChannel = linked.channel();
    if (frame instanceof FrameContinuation) {
      serverChannel.write(frame, serverChannel.voidPromise());
    } else {
      if (!linked.hasOutstandingRequests()) {
        queryStartNanos = System.nanoTime();
        idleInTransactionSinceNanos = 0;
      }
      char type = Frames.type(frame);
      linked.countForwarded(type);
      if (type == 'Q' || type == 'P') { // simple queries, and the extended protocol's text
        String toFree = DatabaseCommands.databaseToFree(frame);
        if (toFree != null) {
          pooler.closeIdleServersOf(toFree, "a statement of " + prefix());
        }
      }
      String effect = null;
      boolean mayEndPin = false;
      boolean sessionMode = pool.poolMode() == PoolMode.SESSION;
      if ((type == 'Q' || type == 'P') && !sessionMode) {
        effect = SessionFeatures.pinReason(frame);
        // a named statement keeps its verdict for the Binds that run it again
        mayEndPin =
            (pinnedFor != null || (type == 'P' && Frames.namesStatement(frame)))
                && SessionFeatures.mayEndPin(frame);
      }
      if (type == 'Q'
          && (sessionMode || effect == SessionFeatures.SETTINGS)
          && SessionFeatures.isLoneReset(frame)) {
        resetSyncPoint = linked.syncPointsSent();
      }
      if ((type == 'Q' || type == 'P') && !sessionMode) {
        frame = followSessionState(linked, frame, effect, mayEndPin);
      }
      if ((type == 'P' || type == 'B' || type == 'D' || type == 'C') && tracksStatements()) {
        PreparedStatement statement =
            linked
                .statements()
                .forward(
                    frame,
                    type,
                    statements,
                    serverChannel,
                    settings.maxPreparedStatements(),
                    linked.syncPointsSent(),
                    stats);
        if (statement != null && type == 'P' && (effect != null || mayEndPin)) {
          statement.sessionEffects(effect, mayEndPin, loneSetParsed);
        } else if (statement != null && type == 'B') {
          String lone = statement.loneSetName();
          long nextSync = linked.syncPointsSent() + 1; // what answers a Bind
          if (lone != null && !loneSets.onItsWay()) {
            loneSets.sent(lone, statement.sql(), nextSync);
          } else if (lone != null && loneSets.isOnItsWay(lone, statement.sql(), nextSync)) {
            // its Parse, just before, made it a lone SET already
          } else if (statement.sessionEffect() != null || statement.mayEndPin()) {
            followSessionState(linked, null, statement.sessionEffect(), statement.mayEndPin());
          }
        }
      } else {
        serverChannel.write(frame, serverChannel.voidPromise());
      }
    }
    if (!serverChannel.isWritable()) {
      channel().config().setAutoRead(false);
    }
  }

  /**
   * Transaction and statement mode: notes what a Query, Parse or Bind does to the session the
   * server keeps ({@code effect}, see {@link SessionFeatures}), and pins or refuses as
   * session_state says. Returns the frame to forward, which it owns; a Bind ({@code frame} null)
   * cannot be refused, but its Parse was.
   */
  private @Nullable ByteBuf followSessionState(
      ServerConnection linked, @Nullable ByteBuf frame, @Nullable String effect, boolean mayEnd) {
    loneSetParsed = null;
    if (effect == SessionFeatures.SETTINGS) {
      String lone = frame == null ? null : SessionFeatures.loneSetName(frame);
      loneSetParsed = lone;
      if (lone != null && !loneSets.onItsWay()) {
        // a Query is its own sync point; a Parse is answered at the next Sync
        long answeredAt = linked.syncPointsSent() + (Frames.type(frame) == 'Q' ? 0 : 1);
        loneSets.sent(lone, SessionFeatures.sqlText(frame), answeredAt);
      } else {
        settingsMayHaveChanged = true;
      }
    } else if (effect != null && pinnedFor != null) {
      pinMayHaveEnded = true; // pinned already: the check will tell all that pins it
    } else if (effect != null) {
      switch (sessionStatePolicy()) {
        case PIN -> pin(linked, effect);
        case ERROR -> {
          if (frame == null) {
            break;
          }
          if (Frames.isWhole(frame)) {
            return SessionFeatures.refusal(frame, effect);
          }
          pin(linked, effect); // the start of a query larger than pkt_buf: cannot rewrite
        }
        case ALLOW -> {} // PgBouncer's way: the state stays with this server
      }
    }
    if (pinnedFor != null && mayEnd) {
      pinMayHaveEnded = true;
    }
    return frame;
  }

  /**
   * Keeps the server for this client until nothing of its session is left on it: the state {@code
   * reason} names lives in that server's session, which another client must neither lose nor get.
   * At the end of this transaction the server is asked, as a LISTEN rolled back pins nothing.
   */
  private void pin(ServerConnection linked, String reason) {
    pinnedFor = reason;
    pinMayHaveEnded = true;
    settingsMayHaveChanged = true; // the same Query may also have SET (LISTEN x; SET y = 1)
    stats.pins++;
    log.info("{} pinned to {}: {}", prefix(), linked.prefix(), reason);
  }

  /** {@code session_state} of this client's database entry, else of [pgbouncer]. */
  private SessionStatePolicy sessionStatePolicy() {
    SessionStatePolicy own = database != null ? database.sessionState() : null;
    return own != null ? own : settings.sessionState();
  }

  /**
   * Protocol-level prepared statements are kept per client and prepared on whichever server it
   * gets, as PgBouncer does: in transaction and statement mode, unless max_prepared_statements = 0.
   */
  private boolean tracksStatements() {
    return pool.poolMode() != PoolMode.SESSION && settings.maxPreparedStatements() > 0;
  }

  private void startWaiting() {
    if (pooler.isRefusingWaiters()) {
      fatal(SqlState.PROTOCOL_VIOLATION, "server shutting down");
      return;
    }
    queuedNoticeSent = false;
    state = ClientState.WAITING;
    waitingSinceNanos = System.nanoTime();
    pool.acquire(this);
    if (state == ClientState.WAITING) {
      // no idle server on this loop: stop reading until one comes. Not before acquire, which
      // mostly links one at once: that would cost two epoll_ctl calls per transaction
      channel().config().setAutoRead(false);
    }
  }

  /** The pool gives this client a server (runs on this client's loop). */
  public void serverAssigned(ServerConnection assigned) {
    if (state == ClientState.CLOSED) {
      assigned.unlink();
      pool.release(assigned);
      return;
    }
    if (pending.isEmpty() && pool.poolMode() != PoolMode.SESSION) {
      pool.release(assigned); // nothing left to run: the wait was cancelled meanwhile
      return;
    }
    if (!assigned.link(this)) {
      assigned.unlink();
      pool.acquire(this); // it closed on the way; wait for another
      return;
    }
    server = assigned;
    PoolStats counters = stats;
    counters.serverAssignments++;
    if (state == ClientState.WAITING) {
      counters.waitTimeUs += (System.nanoTime() - waitingSinceNanos) / 1000;
    }
    state = ClientState.ACTIVE;
    read(assigned.channel(), channel().isWritable());
    List<String> differing = TrackedParameters.differing(wantedParameters, assigned.parameters());
    String settingsSync = SessionCheck.syncStatement(sessionSettings, assigned.sessionSettings());
    syncedParameters = differing.isEmpty() ? null : differing; // none left from another server
    if (!differing.isEmpty() || !settingsSync.isEmpty()) {
      assigned.sendHidden(
          TrackedParameters.syncStatement(wantedParameters, differing) + settingsSync);
      assigned.sessionSettings(sessionSettings);
    }
    if (deferredBegin != null) {
      assigned.sendHidden(deferredBegin); // in the same write as the statement after it
      deferredBegin = null;
    }
    while (!pending.isEmpty() && server == assigned) {
      forward(assigned, pending.poll());
    }
    assigned.channel().flush();
    if (assigned.channel().isWritable()) {
      read(channel(), true);
    }
  }

  /** The pool cannot serve this waiting client. */
  public void failWaiting(String message) {
    fatal(SqlState.PROTOCOL_VIOLATION, message);
  }

  /**
   * A server login failed and the pool passes the server's own error on; we own {@code errorFrame}.
   */
  public void failWithFrame(ByteBuf errorFrame) {
    if (closing) {
      errorFrame.release();
      return;
    }
    closing = true;
    state = ClientState.CLOSED;
    channel().writeAndFlush(errorFrame).addListener(ChannelFutureListener.CLOSE);
  }

  // --- relay, server to client ---

  /** Frames that the server's loop read for this client, handed over in one task. */
  public void onServerFrames(ServerConnection from, List<ByteBuf> frames) {
    for (ByteBuf frame : frames) {
      onServerFrame(from, frame);
    }
    flush();
  }

  /** One frame from a server linked to this client; this method owns {@code frame}. */
  public void onServerFrame(ServerConnection from, ByteBuf frame) {
    if (from != server || state == ClientState.CLOSED) {
      frame.release(); // the link ended while the frame was on its way
      return;
    }
    if (frame instanceof FrameContinuation) { // the rest of a large row or copy data
      if (from.expectsHiddenReply()) {
        frame.release();
      } else {
        stats.serverBytes += frame.readableBytes();
        write(frame);
      }
      return;
    }
    char type = Frames.type(frame);
    if (from.expectsHiddenReply()) {
      onHiddenReply(from, frame, type);
      return;
    }
    stats.serverBytes += frame.readableBytes();
    switch (type) {
      case 'Z' -> {
        char status = ReadyForQuery.status(frame);
        from.readyForQuery(status);
        takeSettings(from, loneSets.readyForQuery(status, from.syncPointsAnswered()));
        if (resetSyncPoint != 0 && from.syncPointsAnswered() == resetSyncPoint) {
          resetSyncPoint = 0;
          resetAnswered(from, status);
        }
        trackTransaction(from, status);
        if (!from.hasOutstandingRequests()) {
          queryFinished(status);
        }
        write(frame);
        afterReadyForQuery(from, status);
      }
      case 'S' -> {
        ParameterStatus status = ParameterStatus.decode(frame);
        from.parameterChanged(status.name(), status.value());
        if (TrackedParameters.canonical(status.name(), settings.trackExtraParameters()) == null) {
          write(frame);
        } else if (resetSyncPoint != 0 && from.syncPointsAnswered() == resetSyncPoint - 1) {
          frame.release();
          resetToStartupValue(status);
        } else {
          wantedParameters.put(status.name(), status.value());
          write(frame);
        }
      }
      case 'G', 'W' -> { // CopyInResponse, CopyBothResponse
        from.copyInStarted();
        write(frame);
      }
      case 'E' -> {
        from.errorReceived();
        loneSets.error(from.syncPointsAnswered());
        writeReply(from, frame, type);
      }
      case 'C' -> {
        loneSets.commandComplete(frame, from.syncPointsAnswered());
        if (pinnedFor != null && ServerStatements.isDiscardAll(frame)) {
          pinnedFor = null; // the session state is gone: the server can go back at ReadyForQuery
        }
        writeReply(from, frame, type);
      }
      case '1', '3' -> writeReply(from, frame, type);
      default -> write(frame);
    }
  }

  /**
   * A tracked parameter a lone RESET (or DISCARD ALL) put back to the server's default: PostgreSQL
   * would have put it back to the client's startup value, and reported it only if it changed.
   */
  private void resetToStartupValue(ParameterStatus status) {
    String own = sessionDefaults.getOrDefault(status.name(), status.value());
    String had = wantedParameters.put(status.name(), own);
    if (!own.equals(had)) {
      Channel ch = channel();
      write(new ParameterStatus(status.name(), own).encodeTo(ch.alloc().ioBuffer()));
    }
  }

  /**
   * The ReadyForQuery of a lone RESET: the server has its own defaults where the client wants its
   * startup values, which it gets now, ahead of anything the client sends next on this server
   * (inside its transaction, if one is open, so that a ROLLBACK undoes both as it undoes the
   * RESET).
   */
  private void resetAnswered(ServerConnection from, char status) {
    if (status == 'E') {
      return; // a failed transaction, which only ROLLBACK can follow
    }
    List<String> differing = TrackedParameters.differing(wantedParameters, from.parameters());
    if (!differing.isEmpty()) {
      syncedParameters = differing;
      from.sendHidden(TrackedParameters.syncStatement(wantedParameters, differing));
      from.channel().flush();
    }
  }

  /**
   * After a sync of tracked parameters: the server has the client's values, in its own spelling
   * (DateStyle 'ISO' reads 'ISO, MDY', and is not even reported when it was that already). The
   * client takes that spelling, or every server it gets would be synced again: pgjdbc's startup
   * DateStyle=ISO cost a hidden SET per transaction.
   */
  private void adoptServerSpelling(ServerConnection from, List<String> synced) {
    Map<String, String> defaults = null;
    for (String name : synced) {
      String spelt = from.parameters().get(name);
      String was = spelt == null ? null : wantedParameters.put(name, spelt);
      if (was != null && !was.equals(spelt) && was.equals(sessionDefaults.get(name))) {
        defaults = defaults == null ? new LinkedHashMap<>(sessionDefaults) : defaults;
        defaults.put(name, spelt); // what DISCARD ALL restores, in the same spelling
      }
    }
    if (defaults != null) {
      sessionDefaults = Map.copyOf(defaults);
    }
  }

  /** Lone SETs now sure to be in the session: the client's settings, and this server's. */
  private void takeSettings(ServerConnection from, Map<String, String> taken) {
    if (taken.isEmpty()) {
      return;
    }
    Map<String, String> now = new LinkedHashMap<>(sessionSettings);
    for (Map.Entry<String, String> e : taken.entrySet()) {
      now.remove(e.getKey()); // the newest last, as the server applied them
      now.put(e.getKey(), e.getValue());
    }
    sessionSettings = Collections.unmodifiableMap(now);
    from.sessionSettings(sessionSettings);
  }

  /** A reply that may concern prepared statements: swallowed, replaced or passed on. */
  private void writeReply(ServerConnection from, ByteBuf frame, char type) {
    if (!tracksStatements()) {
      write(frame);
      return;
    }
    ByteBuf reply = from.statements().onReply(frame, type, statements, from.syncPointsAnswered());
    if (reply != null) {
      write(reply);
    }
  }

  /** SHOW STATS: the query is over, and with status 'I' the transaction too. */
  private void queryFinished(char status) {
    long now = System.nanoTime();
    PoolStats counters = stats;
    if (statsQueryStartNanos != 0) {
      counters.queryTimeUs += (now - statsQueryStartNanos) / 1000;
      statsQueryStartNanos = 0;
    }
    if (status == 'I' && statsXactStartNanos != 0) {
      counters.xactTimeUs += (now - statsXactStartNanos) / 1000;
      statsXactStartNanos = 0;
    }
  }

  private void trackTransaction(ServerConnection from, char status) {
    if (status == 'I') {
      transactionStartNanos = 0;
      idleInTransactionSinceNanos = 0;
      return;
    }
    if (transactionStartNanos == 0) {
      transactionStartNanos = queryStartNanos;
    }
    if (!from.hasOutstandingRequests()) {
      idleInTransactionSinceNanos = System.nanoTime();
    }
  }

  /**
   * PgBouncer's client-side timeouts, checked by this loop's janitor a few times a second: a client
   * waiting for a server ({@code query_wait_timeout}, or {@code query_timeout} when that is
   * shorter: "query_timeout"), idle ({@code client_idle_timeout}), with a query running ({@code
   * query_timeout}), in a transaction ({@code transaction_timeout}) or idle in one ({@code
   * idle_transaction_timeout}); and {@code server_fast_close} for a session whose server is {@code
   * close_needed}. A server abandoned mid-query or mid-transaction is closed, never pooled.
   */
  public void checkTimeouts(long now) {
    if (closing) {
      return;
    }
    if (state == ClientState.WAITING) {
      if (timeouts.query() > 0 && now - waitingSinceNanos > timeouts.query()) {
        pool.forget(this); // PgBouncer checks query_timeout first, with its own wording
        fatal(SqlState.PROTOCOL_VIOLATION, "query_timeout");
      } else if (timeouts.queryWait() > 0 && now - waitingSinceNanos > timeouts.queryWait()) {
        pool.forget(this);
        fatal(SqlState.PROTOCOL_VIOLATION, "query_wait_timeout");
      } else if (!queuedNoticeSent
          && queryWaitNotifyNanos > 0
          && now - waitingSinceNanos > queryWaitNotifyNanos) {
        queuedNoticeSent = true; // once per wait, as PgBouncer's query_wait_notify
        Channel ch = channel();
        ch.writeAndFlush(
            NoticeResponse.of(
                    "NOTICE",
                    SqlState.SUCCESSFUL_COMPLETION,
                    "No server connection available in postgres backend, client being queued")
                .encodeTo(ch.alloc().ioBuffer()));
      }
      return;
    }
    if (state != ClientState.ACTIVE) {
      return;
    }
    ServerConnection linked = server;
    boolean busy = linked != null && linked.hasOutstandingRequests();
    boolean inTransaction = transactionStartNanos != 0;
    if (!busy && !inTransaction) {
      if (linked != null && linked.closeNeeded() && settings.serverFastClose()) {
        // session mode keeps the server between transactions; server_fast_close ends the session
        abandonServer("database configuration changed");
      } else if (timeouts.clientIdle() > 0 && now - lastRequestNanos > timeouts.clientIdle()) {
        fatal(SqlState.PROTOCOL_VIOLATION, "client_idle_timeout");
      }
      return;
    }
    if (busy && timeouts.query() > 0 && now - queryStartNanos > timeouts.query()) {
      abandonServer("query timeout");
    } else if (inTransaction
        && timeouts.transaction() > 0
        && now - transactionStartNanos > timeouts.transaction()) {
      abandonServer("transaction timeout");
    } else if (!busy
        && idleInTransactionSinceNanos != 0
        && timeouts.idleTransaction() > 0
        && now - idleInTransactionSinceNanos > timeouts.idleTransaction()) {
      abandonServer("idle transaction timeout");
    }
  }

  private void abandonServer(String reason) {
    ServerConnection linked = server;
    server = null;
    if (linked != null) {
      linked.unlink();
      linked.close(reason);
    }
    fatal(SqlState.PROTOCOL_VIOLATION, reason);
  }

  private void onHiddenReply(ServerConnection from, ByteBuf frame, char type) {
    SessionCheck check = sessionCheck;
    try {
      switch (type) {
        case 'Z' -> {
          from.hiddenReplyDone();
          List<String> synced = syncedParameters;
          if (synced != null) {
            syncedParameters = null;
            adoptServerSpelling(from, synced);
          }
          if (check != null) {
            sessionCheckDone(from, check);
          } else if (server == from && from.isClean()) {
            afterReadyForQuery(from, 'I'); // sent after a ReadyForQuery, this one ends the work
          }
        }
        case 'S' -> from.rememberParameter(frame);
        case 'D' -> {
          if (check != null) {
            check.row(frame);
          }
        }
        case 'E' -> {
          if (check != null) {
            check.failed();
            return;
          }
          String message = ErrorResponse.decode(frame).message();
          server = null;
          from.unlink();
          from.close("invalid server parameter: " + message);
          fatal(SqlState.PROTOCOL_VIOLATION, "invalid server parameter: " + message);
        }
        default -> {}
      }
    } finally {
      frame.release();
    }
  }

  private void afterReadyForQuery(ServerConnection from, char status) {
    PoolMode mode = pool.poolMode();
    if (mode == PoolMode.SESSION) {
      return;
    }
    if (mode == PoolMode.STATEMENT && status != 'I') {
      server = null;
      from.unlink();
      from.close("transaction blocks not allowed in statement pooling mode");
      fatal(
          SqlState.PROTOCOL_VIOLATION, "transaction blocks not allowed in statement pooling mode");
      return;
    }
    if (!from.isClean()) {
      return;
    }
    if (loneSets.takeMustAsk()) {
      settingsMayHaveChanged = true;
    }
    boolean askPins = pinMayHaveEnded && pinnedFor != null;
    if (settingsMayHaveChanged || askPins) {
      SessionCheck check = new SessionCheck(settingsMayHaveChanged, askPins);
      settingsMayHaveChanged = false;
      pinMayHaveEnded = false;
      sessionCheck = check;
      from.sendHidden(check.query(pool.key().user())); // the client has its ReadyForQuery already
      from.channel().flush();
      return;
    }
    if (pinnedFor == null) {
      server = null;
      releaseServer(from, settings.serverResetQueryAlways());
    }
  }

  /**
   * The server told what of this client's session it holds: settings to replay wherever the client
   * goes, and whatever still pins it. Then the server goes back, unless something pins it or the
   * client sent more meanwhile (its ReadyForQuery will come back here; a statement sent meanwhile
   * has set the flags that ask again, so a stale answer is never the last word).
   */
  private void sessionCheckDone(ServerConnection from, SessionCheck check) {
    sessionCheck = null;
    if (check.hasFailed()) { // a late cancel, a statement_timeout of the client's: ask again
      if (pinnedFor == null) {
        pin(from, "session check failed"); // after the next transaction, as pins are
      }
      settingsMayHaveChanged = true;
      return;
    }
    if (check.askedSettings()) {
      Map<String, String> reported = from.parameters();
      sessionSettings =
          check.settings(
              name ->
                  TrackedParameters.canonical(name, settings.trackExtraParameters()) != null
                      && reported.keySet().stream().anyMatch(name::equalsIgnoreCase));
      from.sessionSettings(sessionSettings);
    }
    String reason = check.pinReason();
    if (pinnedFor == null) {
      if (reason != null && sessionStatePolicy() != SessionStatePolicy.ALLOW) {
        // state no statement showed (set_config('role', ...)); pin() asks again after the next
        // transaction, which also judges what the client sent before it knew it was pinned
        pin(from, reason);
      }
    } else if (check.askedPins()) { // else it asked about settings and role only
      if (reason != null) {
        pinnedFor = reason; // what pins it now, for SHOW PINNED
      } else if (!from.isClean()) {
        pinMayHaveEnded = true; // what the client sent after the check (a Bind of its lock) may pin
      } else {
        log.info("{} unpinned from {}", prefix(), from.prefix());
        pinnedFor = null;
      }
    }
    if (server == from && pinnedFor == null && from.isClean()) {
      server = null;
      releaseServer(from, settings.serverResetQueryAlways());
    }
  }

  private void releaseServer(ServerConnection linked, boolean reset) {
    unlinkFlowControl(linked);
    linked.unlink();
    if (linked.cancelsInFlight().get() > 0 && linked.holdForCancel(reset)) {
      return; // the last cancel to finish releases it (PgBouncer's being_canceled)
    }
    linked.release(reset);
  }

  /**
   * Backpressure pauses reading on one side while the other is full; when the link ends, neither
   * side may stay paused on the other's account: the server goes back to the pool reading (so its
   * close is noticed) and this client reads again.
   */
  private void unlinkFlowControl(ServerConnection linked) {
    read(linked.channel(), true);
    if (state == ClientState.ACTIVE) {
      read(channel(), true);
    }
  }

  /**
   * Starts or stops reading {@code ch} for backpressure; while SUSPEND holds, reading stays off
   * until RESUME turns it on everywhere.
   */
  private void read(Channel ch, boolean on) {
    if (!on || !pooler.isSuspended()) {
      ch.config().setAutoRead(on);
    }
  }

  private void write(ByteBuf frame) {
    Channel ch = channel();
    ch.write(frame, ch.voidPromise());
    if (!ch.isWritable()) {
      ServerConnection linked = server;
      if (linked != null) {
        linked.channel().config().setAutoRead(false);
      }
    }
  }

  public void flush() {
    Channel ch = channel;
    if (ch != null) {
      ch.flush();
    }
  }

  /** The linked server's channel has room again. */
  public void serverWritable() {
    if (state == ClientState.ACTIVE) {
      read(channel(), true);
    }
  }

  /** The linked server's connection closed (runs on this client's loop). */
  public void serverClosed(ServerConnection closed) {
    if (closed != server) {
      return;
    }
    server = null;
    if (state == ClientState.CLOSED) {
      return;
    }
    fatal(SqlState.PROTOCOL_VIOLATION, "server conn crashed?");
  }

  // --- admin console views ---

  /** RELOAD: the client's timeouts follow the new settings (call on this client's loop). */
  public void settingsChanged(Settings fresh) {
    settings = fresh;
    queryWaitNotifyNanos = fresh.queryWaitNotify().toNanos();
    if (isLoggedIn() && admin == null) {
      timeouts =
          ClientTimeouts.resolve(fresh, fresh.users().get(user), fresh.database(databaseName));
    }
  }

  /** The database of this client's pool; null for the admin console and clients logging in. */
  public @Nullable String poolDatabase() {
    Pool p = pool;
    return p == null ? null : p.key().database();
  }

  /** The pool it logged in to; null for the admin console and clients logging in. */
  public @Nullable Pool pool() {
    return pool;
  }

  /** A client of the admin console. */
  public boolean isConsole() {
    return admin != null;
  }

  /** Logged in (welcomed), and not closing. */
  public boolean isLoggedIn() {
    return (state == ClientState.ACTIVE || state == ClientState.WAITING) && !closing;
  }

  /** Waiting in its pool's queue for a server. */
  public boolean isWaiting() {
    return state == ClientState.WAITING && !closing;
  }

  /** This connection as SHOW CLIENTS shows it; call on this client's event loop. */
  public ClientSnapshot snapshot(long nowNanos, long nowMillis) {
    Channel ch = channel;
    ServerConnection linked = server;
    String shown =
        switch (state) {
          case LOGIN, CLOSED -> cancelState != null ? cancelState : "login";
          case WAITING -> "waiting";
          case ACTIVE -> linked != null ? "active" : "idle";
        };
    long since = statsQueryStartNanos;
    ClientConnection target = cancelTarget;
    return new ClientSnapshot(
        id,
        target != null ? target.user : user,
        target != null ? target.databaseName : databaseName,
        shown,
        ch == null ? null : ch.remoteAddress(),
        ch == null ? null : ch.localAddress(),
        connectedAtMillis,
        nowMillis - (nowNanos - lastRequestNanos) / 1_000_000,
        since == 0 ? 0 : (nowNanos - since) / 1000,
        linked == null ? 0 : linked.id(),
        wantedParameters.getOrDefault("application_name", ""),
        pool != null
            ? pool.key()
            : target != null && target.pool != null ? target.pool.key() : null,
        admin != null,
        statements.count(),
        pinnedFor,
        pendingWriteBytes(ch));
  }

  /** Bytes written to {@code ch} and not yet sent; any thread. */
  public static long pendingWriteBytes(@Nullable Channel ch) {
    var buffer = ch == null ? null : ch.unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }

  /**
   * This connection carries a cancel request for {@code target}, in PgBouncer's state {@code
   * active_cancel_req} or {@code waiting_cancel_req}; shown by SHOW CLIENTS. Any thread.
   */
  public void cancelState(String state, ClientConnection target) {
    cancelTarget = target;
    cancelState = state;
  }

  // --- cancel ---

  /**
   * A CancelRequest on {@code request}'s connection named this client: cancel its running query,
   * and nothing else.
   */
  public void cancelRunningQuery(ClientConnection request) {
    if (admin != null) {
      request.closeCancelRequest("cancel request for console client");
      return;
    }
    if (state == ClientState.WAITING && cancelWhileQueued()) {
      request.closeCancelRequest("cancel request for queued client");
      return;
    }
    ServerConnection linked = server;
    if (linked == null || state != ClientState.ACTIVE || !linked.hasOutstandingRequests()) {
      request.closeCancelRequest("cancel request for idle client");
      return;
    }
    linked.cancelsInFlight().incrementAndGet(); // holds the server for this client until done
    pool.cancel(linked, this, request);
  }

  /** This connection carried a CancelRequest that needs no more work: close it, saying why. */
  public void closeCancelRequest(String reason) {
    closing = true;
    logClose(reason);
    channel().close();
  }

  /**
   * A cancel for a client still waiting for a server: its query never started, so it leaves the
   * queue and gets the error PostgreSQL sends for a cancelled statement, then one ReadyForQuery per
   * sync point it sent (PgBouncer keeps such clients queued, its issue #1222). Only when every
   * queued request ends in a sync point; otherwise the cancel is ignored, as for an idle client.
   */
  private boolean cancelWhileQueued() {
    int syncPoints = 0;
    boolean endsInSync = false;
    for (ByteBuf frame : pending) {
      if (!Frames.isWhole(frame)) {
        return false; // a large request still arriving: it cannot be taken back half-read
      }
      char type = Frames.type(frame);
      endsInSync = type == 'Q' || type == 'S' || type == 'F';
      if (endsInSync) {
        syncPoints++;
      }
    }
    if (!endsInSync) {
      return false;
    }
    pool.forget(this);
    releasePending();
    state = ClientState.ACTIVE;
    log.info("{} cancel request for queued client: removed from the queue", prefix());
    Channel ch = channel();
    ch.write(
        ErrorResponse.of(
                "ERROR", SqlState.QUERY_CANCELED, "canceling statement due to user request")
            .encodeTo(ch.alloc().ioBuffer()));
    for (int i = 0; i < syncPoints; i++) {
      ch.write(ReadyForQuery.IDLE_FRAME.duplicate());
    }
    ch.flush();
    read(ch, true);
    return true;
  }

  // --- helpers ---

  /**
   * Sends {@code lastFrame} (ours to write) and closes, logging PgBouncer's "closing because" line
   * with {@code reason}.
   */
  public void closeAfter(ByteBuf lastFrame, String reason) {
    if (closing) {
      lastFrame.release();
      return;
    }
    closing = true;
    logClose(reason);
    state = ClientState.CLOSED;
    channel().writeAndFlush(lastFrame).addListener(ChannelFutureListener.CLOSE);
  }

  /** Sends a FATAL ErrorResponse and closes, logging PgBouncer's "closing because" line. */
  public void fatal(String sqlState, String message) {
    Channel ch = channel();
    if (closing) {
      return;
    }
    closing = true;
    if (settings.logPoolerErrors()) {
      log.warn("{} pooler error: {}", prefix(), message);
    }
    logClose(message);
    state = ClientState.CLOSED;
    ch.writeAndFlush(ErrorResponse.of("FATAL", sqlState, message).encodeTo(ch.alloc().ioBuffer()))
        .addListener(ChannelFutureListener.CLOSE);
  }

  /** PgBouncer's line for every closed client, with log_disconnections. */
  private void logClose(String reason) {
    if (settings.logDisconnections()) {
      log.info(
          "{} closing because: {} (age={}s)",
          prefix(),
          reason,
          (System.currentTimeMillis() - connectedAtMillis) / 1000);
    }
  }

  /** Sends an authentication request or similar frame during login. */
  public void send(ByteBuf message) {
    channel().writeAndFlush(message);
  }

  private void releasePending() {
    ByteBuf frame;
    while ((frame = pending.poll()) != null) {
      ReferenceCountUtil.release(frame);
    }
  }

  public String prefix() {
    return Conn.prefix(
        'C', id, databaseName, user, channel == null ? null : channel.remoteAddress());
  }

  @Override
  public String toString() {
    return prefix()
        + " "
        + state
        + (server != null && server.state() == ServerState.ACTIVE ? " linked" : "");
  }
}

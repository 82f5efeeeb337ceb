package io.jbouncer.server;

import io.jbouncer.Pooler;
import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.PgFrameDecoder;
import io.jbouncer.protocol.backend.DataRow;
import io.jbouncer.protocol.backend.ErrorResponse;
import io.jbouncer.protocol.frontend.Bind;
import io.jbouncer.protocol.frontend.Execute;
import io.jbouncer.protocol.frontend.Parse;
import io.jbouncer.protocol.frontend.Startup;
import io.jbouncer.protocol.frontend.Sync;
import io.jbouncer.protocol.frontend.Terminate;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks up the secrets of users missing from {@code auth_file} with {@code auth_query}, as
 * PgBouncer does: over one dedicated connection to the server database, logged in as {@code
 * auth_user}, with the user name sent as a bound parameter (extended protocol, never spliced into
 * SQL), and no parameter sync on that connection. Lookups are queued and run one at a time; a lost
 * connection fails what was queued and is reopened by the next lookup.
 *
 * <p>Threading: confined to one event loop; {@link #lookup} may be called from any thread and
 * completes its future on that loop.
 */
public final class AuthQuery {
  private static final Logger log = LoggerFactory.getLogger(AuthQuery.class);

  /** What auth_query found: a secret, or nothing (unknown user, or NULL password). */
  public record Result(@Nullable String secret) {}

  private final Pooler pooler;
  private final EventLoop loop;
  private final String host;
  private final int port;
  private final String dbname;
  private final String authUser;
  private final @Nullable String authPassword;
  private final String query;
  private final ArrayDeque<Lookup> queue = new ArrayDeque<>();
  private @Nullable Channel channel;
  private boolean ready;
  private @Nullable Lookup running;

  private record Lookup(String user, CompletableFuture<Result> result) {}

  public AuthQuery(
      Pooler pooler,
      EventLoop loop,
      String host,
      int port,
      String dbname,
      String authUser,
      @Nullable String authPassword,
      String query) {
    this.pooler = pooler;
    this.loop = loop;
    this.host = host;
    this.port = port;
    this.dbname = dbname;
    this.authUser = authUser;
    this.authPassword = authPassword;
    this.query = query;
  }

  /** Runs auth_query for {@code user}; fails with a message fit for the client on errors. */
  public CompletableFuture<Result> lookup(String user) {
    CompletableFuture<Result> result = new CompletableFuture<>();
    loop.execute(
        () -> {
          queue.add(new Lookup(user, result));
          pump();
        });
    return result;
  }

  private void pump() {
    if (running != null || queue.isEmpty()) {
      return;
    }
    if (channel == null) {
      connect();
      return;
    }
    if (!ready) {
      return;
    }
    Lookup next = queue.poll();
    running = next;
    Channel ch = channel;
    ch.write(new Parse("", query, List.of()).encodeTo(ch.alloc().ioBuffer()));
    ch.write(new Bind("", "", List.of(next.user())).encodeTo(ch.alloc().ioBuffer()));
    ch.write(new Execute("", 0).encodeTo(ch.alloc().ioBuffer()));
    ch.writeAndFlush(Sync.FRAME.duplicate());
  }

  private void connect() {
    Connection handler = new Connection();
    ChannelFuture connecting =
        new Bootstrap()
            .group(loop)
            .channel(pooler.transport().socketChannel())
            .resolver(pooler.resolvers())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.max(1, pooler.settings().serverConnectTimeout().toMillis()))
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(new PgFrameDecoder(pooler.settings().maxPacketSize()), handler);
                  }
                })
            .connect(host, port);
    channel = connecting.channel();
    connecting.addListener(
        (ChannelFuture f) -> {
          if (!f.isSuccess()) {
            lost("could not connect to server: " + f.cause().getMessage());
          }
        });
  }

  /** The connection is gone: every queued lookup fails, the next one reconnects. */
  private void lost(String why) {
    log.warn("auth_query connection to {} as {}: {}", dbname, authUser, why);
    channel = null;
    ready = false;
    Lookup current = running;
    running = null;
    if (current != null) {
      current.result().completeExceptionally(new IllegalStateException(why));
    }
    Lookup queued;
    while ((queued = queue.poll()) != null) {
      queued.result().completeExceptionally(new IllegalStateException(why));
    }
  }

  /** The pipeline handler of the dedicated connection. */
  private final class Connection extends ChannelInboundHandlerAdapter {
    private @Nullable BackendLogin login;
    private @Nullable String found;
    private boolean rowSeen;
    private @Nullable String error;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      Map<String, String> startup = new LinkedHashMap<>();
      startup.put("user", authUser);
      startup.put("database", dbname);
      startup.put("application_name", "jbouncer auth_query");
      ctx.writeAndFlush(new Startup(startup).encodeTo(ctx.alloc().ioBuffer()));
      login =
          new BackendLogin(
              pooler,
              ctx.channel(),
              authUser,
              authPassword,
              new BackendLogin.Outcome() {
                @Override
                public void ready(BackendLogin done) {
                  login = null;
                  ready = true;
                  pump();
                }

                @Override
                public void failed(ByteBuf errorFrame, String message) {
                  errorFrame.release();
                  login = null;
                  ctx.close();
                  lost("login as auth_user failed: " + message);
                }
              });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf frame = (ByteBuf) msg;
      try {
        BackendLogin conversation = login;
        if (conversation != null) {
          conversation.onFrame(frame);
          return;
        }
        switch (Frames.type(frame)) {
          case 'D' -> {
            DataRow row = DataRow.decode(frame);
            if (row.size() != 2) {
              error = "auth_query must return 2 columns, got " + row.size();
            } else if (!rowSeen) {
              rowSeen = true;
              found = row.text(1);
            }
          }
          case 'E' -> error = ErrorResponse.decode(frame).message();
          case 'Z' -> finishLookup();
          default -> {} // ParseComplete, BindComplete, CommandComplete, notices
        }
      } finally {
        frame.release();
      }
    }

    private void finishLookup() {
      Lookup current = running;
      running = null;
      String failure = error;
      String secret = found;
      error = null;
      found = null;
      rowSeen = false;
      if (current != null) {
        if (failure != null) {
          log.warn("auth_query for user {} failed: {}", current.user(), failure);
          current.result().completeExceptionally(new IllegalStateException(failure));
        } else {
          current.result().complete(new Result(secret));
        }
      }
      pump();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (channel == ctx.channel()) {
        lost("connection closed");
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** Closes the dedicated connection. */
  public void close() {
    loop.execute(
        () -> {
          Channel ch = channel;
          if (ch != null && ch.isActive()) {
            ch.writeAndFlush(Terminate.FRAME.duplicate());
            ch.close();
          }
        });
  }
}

package io.jbouncer.bench;

import io.jbouncer.net.Transport;
import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.PgFrameDecoder;
import io.jbouncer.protocol.StartupDecoder;
import io.jbouncer.protocol.StartupPacket;
import io.jbouncer.protocol.backend.AuthenticationOk;
import io.jbouncer.protocol.backend.BackendKeyData;
import io.jbouncer.protocol.backend.CommandComplete;
import io.jbouncer.protocol.backend.DataRow;
import io.jbouncer.protocol.backend.ParameterStatus;
import io.jbouncer.protocol.backend.ReadyForQuery;
import io.jbouncer.protocol.backend.RowDescription;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process stand-in for PostgreSQL, as cheap as a server can be, so that a benchmark through
 * jbouncer measures jbouncer: every login is accepted with trust (AuthenticationOk, a few
 * ParameterStatus, BackendKeyData, ReadyForQuery 'I'), and every simple Query is answered with the
 * reply to {@code SELECT 1} (RowDescription, one DataRow, CommandComplete, ReadyForQuery 'I') from
 * one pre-encoded buffer; an empty query (jbouncer's {@code server_check_query}) gets
 * EmptyQueryResponse. Other messages are dropped, Terminate closes. One event loop thread.
 */
final class FakePostgres implements AutoCloseable {
  private static final int MAX_FRAME_LENGTH = 1 << 20;
  private static final Map<String, String> PARAMETERS =
      orderedParameters(
          "server_version", "17.0",
          "server_encoding", "UTF8",
          "client_encoding", "UTF8",
          "DateStyle", "ISO, MDY",
          "TimeZone", "UTC",
          "integer_datetimes", "on",
          "standard_conforming_strings", "on",
          "application_name", "");

  private final EventLoopGroup group;
  private final Channel listener;
  private final ChannelGroup connections =
      new DefaultChannelGroup("fake-postgres", GlobalEventExecutor.INSTANCE);
  private final AtomicInteger logins = new AtomicInteger();
  private final ByteBuf selectOneReply;
  private final ByteBuf emptyQueryReply;

  private FakePostgres() throws InterruptedException {
    Transport transport = Transport.detect();
    group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
    selectOneReply = Unpooled.unreleasableBuffer(selectOne()).asReadOnly();
    emptyQueryReply = Unpooled.unreleasableBuffer(emptyQuery()).asReadOnly();
    try {
      listener =
          new ServerBootstrap()
              .group(group)
              .channel(transport.serverChannel())
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      connections.add(ch);
                      ch.pipeline()
                          .addLast(
                              new StartupDecoder(() -> new PgFrameDecoder(MAX_FRAME_LENGTH)),
                              new Session());
                    }
                  })
              .bind(new InetSocketAddress("127.0.0.1", 0))
              .sync()
              .channel();
    } catch (InterruptedException | RuntimeException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** Listens on a free port of 127.0.0.1. */
  static FakePostgres start() throws InterruptedException {
    return new FakePostgres();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) listener.localAddress();
  }

  int port() {
    return address().getPort();
  }

  /** Logins accepted so far: how many server connections jbouncer opened. */
  int logins() {
    return logins.get();
  }

  @Override
  public void close() {
    listener.close().syncUninterruptibly();
    connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** One server connection: the login, then a reply per Query. Runs on its channel's loop. */
  private final class Session extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof StartupPacket packet) {
        onStartupPacket(ctx, packet);
        return;
      }
      ByteBuf frame = (ByteBuf) msg;
      try {
        switch (Frames.type(frame)) {
          case 'Q' -> {
            // type, length, and the query's NUL: an empty query
            boolean empty = frame.readableBytes() == Frames.HEADER_LENGTH + 1;
            ctx.write((empty ? emptyQueryReply : selectOneReply).duplicate(), ctx.voidPromise());
          }
          case 'X' -> ctx.close();
          default -> {} // nothing else is sent by the benchmarks
        }
      } finally {
        frame.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // jbouncer closing a server connection mid-write, say: nothing to report
    }

    private void onStartupPacket(ChannelHandlerContext ctx, StartupPacket packet) {
      if (packet instanceof StartupPacket.StartupMessage) {
        int pid = logins.incrementAndGet();
        ByteBuf out = ctx.alloc().ioBuffer();
        new AuthenticationOk().encodeTo(out);
        PARAMETERS.forEach((name, value) -> new ParameterStatus(name, value).encodeTo(out));
        new BackendKeyData(pid, 0x5eed ^ pid).encodeTo(out);
        out.writeBytes(ReadyForQuery.IDLE_FRAME.duplicate());
        ctx.writeAndFlush(out, ctx.voidPromise());
      } else if (packet instanceof StartupPacket.SslRequest
          || packet instanceof StartupPacket.GssEncRequest) {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}), ctx.voidPromise());
      } else {
        ctx.close(); // a CancelRequest: nothing runs long enough to cancel
      }
    }
  }

  /** The reply to {@code SELECT 1}: an int4 column {@code ?column?} with the value 1. */
  private static ByteBuf selectOne() {
    ByteBuf out = Unpooled.directBuffer();
    new RowDescription(List.of(new RowDescription.Field("?column?", 23, 4))).encodeTo(out);
    DataRow.ofText(List.of("1")).encodeTo(out);
    new CommandComplete("SELECT 1").encodeTo(out);
    out.writeBytes(ReadyForQuery.IDLE_FRAME.duplicate());
    return out;
  }

  private static ByteBuf emptyQuery() {
    ByteBuf out = Unpooled.directBuffer();
    Frames.write(out, 'I', body -> {}); // EmptyQueryResponse
    out.writeBytes(ReadyForQuery.IDLE_FRAME.duplicate());
    return out;
  }

  private static Map<String, String> orderedParameters(String... namesAndValues) {
    Map<String, String> map = new java.util.LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      map.put(namesAndValues[i], namesAndValues[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(map);
  }
}

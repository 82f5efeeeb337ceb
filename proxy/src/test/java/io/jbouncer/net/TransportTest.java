package io.jbouncer.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.ConfigFactory;
import io.jbouncer.config.ConfigLoader;
import io.jbouncer.config.Settings;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PgBouncer's tcp_* settings reach real sockets. */
class TransportTest {
  private static final Settings KEEPALIVE =
      ConfigLoader.fromConfig(
          ConfigFactory.parseString(
              "jbouncer.pgbouncer { tcp_keepalive = 1, tcp_keepidle = 31, tcp_keepintvl = 7,"
                  + " tcp_keepcnt = 4, tcp_user_timeout = 9000 }"));

  @Test
  void keepaliveSettingsAreAppliedToAConnectedSocket() throws Exception {
    Transport transport = Transport.detect();
    assumeTrue(transport.name().equals("epoll"), "per-socket keepalive tuning needs epoll");
    Map<ChannelOption<?>, Object> options = transport.socketOptions(KEEPALIVE);
    assertThat(options)
        .containsEntry(ChannelOption.SO_KEEPALIVE, true)
        .containsEntry(EpollChannelOption.TCP_KEEPIDLE, 31)
        .containsEntry(EpollChannelOption.TCP_KEEPINTVL, 7)
        .containsEntry(EpollChannelOption.TCP_KEEPCNT, 4)
        .containsEntry(EpollChannelOption.TCP_USER_TIMEOUT, 9000);

    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Bootstrap bootstrap =
          new Bootstrap()
              .group(group)
              .channel(transport.socketChannel())
              .handler(new ChannelInboundHandlerAdapter());
      options.forEach((option, value) -> bootstrap.option(raw(option), value));
      Channel channel = bootstrap.connect(listener.getLocalSocketAddress()).sync().channel();
      try (Socket accepted = listener.accept()) {
        assertThat(channel.config().getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
        assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPIDLE)).isEqualTo(31);
        assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPINTVL)).isEqualTo(7);
        assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPCNT)).isEqualTo(4);
        assertThat(channel.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).isEqualTo(9000);
      } finally {
        channel.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }
  }

  @Test
  void keepaliveOffLeavesTheKernelDefaults() {
    Settings off =
        ConfigLoader.fromConfig(
            ConfigFactory.parseString(
                "jbouncer.pgbouncer { tcp_keepalive = 0, tcp_keepidle = 31 }"));
    Map<ChannelOption<?>, Object> options = Transport.detect().socketOptions(off);
    assertThat(options).containsEntry(ChannelOption.SO_KEEPALIVE, false);
    assertThat(options).doesNotContainKey(EpollChannelOption.TCP_KEEPIDLE);
  }

  @SuppressWarnings("unchecked")
  private static ChannelOption<Object> raw(ChannelOption<?> option) {
    return (ChannelOption<Object>) option;
  }
}

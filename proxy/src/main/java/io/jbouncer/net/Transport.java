package io.jbouncer.net;

import io.jbouncer.config.Settings;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.StandardSocketOptions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one place that chooses between the native epoll transport and NIO. Everything else asks this
 * record for its event-loop factory and channel classes (the datagram one is for DNS).
 */
public record Transport(
    String name,
    IoHandlerFactory ioHandlerFactory,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends Channel> socketChannel,
    Class<? extends DatagramChannel> datagramChannel) {

  /**
   * Socket options for client and server connections from PgBouncer's {@code tcp_*} settings:
   * keepalive everywhere, and where the native transport allows it the idle time, interval and
   * count of keepalive probes and {@code tcp_user_timeout} (0 = the kernel's default).
   */
  public Map<ChannelOption<?>, Object> socketOptions(Settings settings) {
    Map<ChannelOption<?>, Object> options = new LinkedHashMap<>();
    options.put(ChannelOption.TCP_NODELAY, true);
    options.put(ChannelOption.SO_KEEPALIVE, settings.tcpKeepalive());
    if (!name.equals("epoll")) {
      return options; // NIO has no portable per-socket keepalive tuning
    }
    if (settings.tcpKeepalive()) {
      if (settings.tcpKeepidle() > 0) {
        options.put(EpollChannelOption.TCP_KEEPIDLE, settings.tcpKeepidle());
      }
      if (settings.tcpKeepintvl() > 0) {
        options.put(EpollChannelOption.TCP_KEEPINTVL, settings.tcpKeepintvl());
      }
      if (settings.tcpKeepcnt() > 0) {
        options.put(EpollChannelOption.TCP_KEEPCNT, settings.tcpKeepcnt());
      }
    }
    if (settings.tcpUserTimeout() > 0) {
      options.put(EpollChannelOption.TCP_USER_TIMEOUT, settings.tcpUserTimeout());
    }
    return options;
  }

  /** SO_REUSEPORT for listening sockets ({@code so_reuseport}). */
  public ChannelOption<Boolean> reusePort() {
    return name.equals("epoll")
        ? EpollChannelOption.SO_REUSEPORT
        : NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT);
  }

  /** Native epoll where it loads, NIO otherwise; {@code -Djbouncer.transport=nio} forces NIO. */
  public static Transport detect() {
    boolean forceNio = "nio".equals(System.getProperty("jbouncer.transport"));
    if (!forceNio && Epoll.isAvailable()) {
      return new Transport(
          "epoll",
          EpollIoHandler.newFactory(),
          EpollServerSocketChannel.class,
          EpollSocketChannel.class,
          EpollDatagramChannel.class);
    }
    return new Transport(
        "nio",
        NioIoHandler.newFactory(),
        NioServerSocketChannel.class,
        NioSocketChannel.class,
        NioDatagramChannel.class);
  }
}

package io.jbouncer;

import io.jbouncer.auth.HbaRules;
import io.jbouncer.auth.UserList;
import io.jbouncer.client.ClientConnection;
import io.jbouncer.config.AuthType;
import io.jbouncer.config.ConfigError;
import io.jbouncer.config.Settings;
import io.jbouncer.net.Transport;
import io.jbouncer.pool.Pool;
import io.jbouncer.protocol.PgFrameDecoder;
import io.jbouncer.protocol.StartupDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running jbouncer: one acceptor thread, one event loop per core (or {@code worker_threads})
 * serving clients and servers, and the pools.
 */
public final class JBouncer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JBouncer.class);
  private static final Set<AuthType> SUPPORTED_AUTH =
      EnumSet.of(
          AuthType.ANY,
          AuthType.TRUST,
          AuthType.PLAIN,
          AuthType.MD5,
          AuthType.SCRAM_SHA_256,
          AuthType.HBA);

  static final long JANITOR_MILLIS = 333;

  private final Pooler pooler;
  private final Transport transport;
  private final EventLoopGroup acceptor;
  private final EventLoopGroup workers;
  private final List<Channel> listeners;
  private final ChannelGroup clients;

  private JBouncer(
      Pooler pooler,
      Transport transport,
      EventLoopGroup acceptor,
      EventLoopGroup workers,
      List<Channel> listeners,
      ChannelGroup clients) {
    this.pooler = pooler;
    this.transport = transport;
    this.acceptor = acceptor;
    this.workers = workers;
    this.listeners = listeners;
    this.clients = clients;
  }

  /**
   * Binds the listeners and starts serving; returns once clients can connect.
   *
   * @throws ConfigError when the settings ask for something not available
   */
  public static JBouncer start(Settings settings) throws InterruptedException {
    if (!SUPPORTED_AUTH.contains(settings.authType())) {
      throw new ConfigError(
          "auth_type "
              + settings.authType().iniName()
              + " is not supported yet (supported: any, trust, plain, md5, scram-sha-256, hba)");
    }
    UserList userList =
        settings.authFile() != null ? UserList.load(settings.authFile()) : UserList.empty();
    Transport transport = Transport.detect();
    int threads =
        settings.workerThreads() > 0
            ? settings.workerThreads()
            : Runtime.getRuntime().availableProcessors();
    HbaRules hbaRules = null;
    if (settings.authType() == AuthType.HBA) {
      if (settings.authHbaFile() == null) {
        throw new ConfigError("auth_type hba needs auth_hba_file");
      }
      hbaRules = HbaRules.load(settings.authHbaFile());
    }
    Pooler pooler = new Pooler(settings, userList, hbaRules, transport);
    EventLoopGroup acceptor = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlerFactory());
    pooler.useEventLoops(workers);
    startJanitors(pooler, acceptor, workers);
    ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(acceptor, workers)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, settings.listenBacklog())
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, Pooler.WATER_MARK)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    clients.add(ch);
                    ch.pipeline()
                        .addLast(
                            "startupDecoder",
                            new StartupDecoder(
                                () ->
                                    new PgFrameDecoder(
                                        settings.maxPacketSize(),
                                        settings.pktBuf(),
                                        ClientConnection.KEEP_WHOLE)));
                    ch.pipeline().addLast("client", new ClientConnection(pooler, pooler.nextId()));
                  }
                });
    transport
        .socketOptions(settings)
        .forEach((option, value) -> bootstrap.childOption(rawOption(option), value));
    List<Channel> listeners = new ArrayList<>();
    try {
      for (String address : listenAddresses(settings)) {
        InetSocketAddress bindTo =
            address.equals("*")
                ? new InetSocketAddress(settings.listenPort())
                : new InetSocketAddress(address, settings.listenPort());
        Channel listener = bootstrap.bind(bindTo).sync().channel();
        listeners.add(listener);
        log.info("listening on {}", listener.localAddress());
      }
    } catch (Exception e) {
      listeners.forEach(Channel::close);
      acceptor.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
    log.info(
        "process up: jbouncer, {} transport, {} worker threads, pool_mode={}",
        transport.name(),
        threads,
        settings.poolMode().iniName());
    return new JBouncer(pooler, transport, acceptor, workers, listeners, clients);
  }

  @SuppressWarnings("unchecked")
  static ChannelOption<Object> rawOption(ChannelOption<?> option) {
    return (ChannelOption<Object>) option;
  }

  /**
   * PgBouncer's janitor runs about three times a second; so do ours: one per event loop for its own
   * clients (no locks), and one for the pools' idle servers.
   */
  private static void startJanitors(
      Pooler pooler, EventLoopGroup acceptor, EventLoopGroup workers) {
    for (io.netty.util.concurrent.EventExecutor executor : workers) {
      io.netty.channel.EventLoop loop = (io.netty.channel.EventLoop) executor;
      loop.scheduleAtFixedRate(
          () -> pooler.clientJanitor(loop), JANITOR_MILLIS, JANITOR_MILLIS, TimeUnit.MILLISECONDS);
    }
    acceptor
        .next()
        .scheduleAtFixedRate(
            pooler::poolJanitor, JANITOR_MILLIS, JANITOR_MILLIS, TimeUnit.MILLISECONDS);
  }

  private static List<String> listenAddresses(Settings settings) {
    List<String> addresses = settings.listenAddr().stream().filter(a -> !a.isBlank()).toList();
    if (addresses.isEmpty()) {
      log.warn(
          "listen_addr is empty and unix sockets are not supported yet: listening on 127.0.0.1");
      return List.of("127.0.0.1");
    }
    return addresses;
  }

  /** The first listening address (the actual port when listen_port is 0). */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) listeners.get(0).localAddress();
  }

  /** {@code epoll} or {@code nio}. */
  public String transportName() {
    return transport.name();
  }

  /**
   * Re-reads {@code auth_file} (SIGHUP does this until the admin console's RELOAD arrives).
   *
   * @return true if it changed
   * @throws ConfigError if the new file is broken; the old one stays in force
   */
  public boolean reloadAuthFile() {
    return pooler.reloadAuthFile();
  }

  /** What the connections share, for tests and, later, the admin console. */
  public Pooler pooler() {
    return pooler;
  }

  /** Blocks until {@link #close()} has completed. */
  public void awaitTermination() throws InterruptedException {
    workers.terminationFuture().await();
    acceptor.terminationFuture().await();
  }

  /** Closes listeners, clients and servers. */
  @Override
  public void close() {
    listeners.forEach(l -> l.close().syncUninterruptibly());
    clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    for (Pool pool : pooler.pools()) {
      pool.closeIdle("shutting down");
    }
    pooler.shutdown(); // auth_query connections close on the loops: before they stop
    acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    log.info("shutdown complete");
  }
}

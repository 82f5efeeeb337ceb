package io.jbouncer;

import io.jbouncer.admin.Admin;
import io.jbouncer.client.ClientConnection;
import io.jbouncer.config.ConfigError;
import io.jbouncer.config.Settings;
import io.jbouncer.lifecycle.Controller;
import io.jbouncer.lifecycle.Reloader;
import io.jbouncer.net.Transport;
import io.jbouncer.pool.Pool;
import io.jbouncer.protocol.PgFrameDecoder;
import io.jbouncer.protocol.StartupDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running jbouncer: one acceptor thread, one event loop per core (or {@code worker_threads})
 * serving clients and servers, and the pools.
 */
public final class JBouncer implements AutoCloseable, Controller.Process {
  private static final Logger log = LoggerFactory.getLogger(JBouncer.class);
  static final long JANITOR_MILLIS = 333;

  private final Pooler pooler;
  private final Transport transport;
  private final EventLoopGroup acceptor;
  private final EventLoopGroup workers;
  private final List<Channel> listeners;
  private final ChannelGroup clients;
  private final Controller controller;
  private final Reloader reloader;
  private final AtomicBoolean closing = new AtomicBoolean();

  private JBouncer(
      Pooler pooler,
      Transport transport,
      EventLoopGroup acceptor,
      EventLoopGroup workers,
      List<Channel> listeners,
      ChannelGroup clients,
      Controller controller,
      Reloader reloader) {
    this.pooler = pooler;
    this.transport = transport;
    this.acceptor = acceptor;
    this.workers = workers;
    this.listeners = listeners;
    this.clients = clients;
    this.controller = controller;
    this.reloader = reloader;
    controller.attach(this);
  }

  /**
   * Binds the listeners and starts serving; returns once clients can connect.
   *
   * @throws ConfigError when the settings ask for something not available
   */
  public static JBouncer start(Settings settings) throws InterruptedException {
    Pooler.AuthFiles auth = Pooler.loadAuthFiles(settings);
    Transport transport = Transport.detect();
    int threads =
        settings.workerThreads() > 0
            ? settings.workerThreads()
            : Runtime.getRuntime().availableProcessors();
    Pooler pooler = new Pooler(settings, auth, transport);
    EventLoopGroup acceptor = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlerFactory());
    pooler.useEventLoops(workers);
    Controller controller = new Controller(pooler, acceptor.next());
    Reloader reloader = new Reloader(pooler, settings.configFile());
    Admin admin = new Admin(pooler, controller, reloader);
    pooler.useAdmin(admin);
    startJanitors(pooler, acceptor, workers);
    long statsPeriod = Math.max(1, settings.statsPeriod().toMillis());
    acceptor
        .next()
        .scheduleAtFixedRate(admin.stats()::tick, statsPeriod, statsPeriod, TimeUnit.MILLISECONDS);
    ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    ServerBootstrap bootstrap =
        new ServerBootstrap()
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
        for (ServerBootstrap perListener :
            listenerBootstraps(bootstrap, workers, settings, transport)) {
          Channel listener = perListener.bind(bindTo).sync().channel();
          listeners.add(listener);
          bindTo = (InetSocketAddress) listener.localAddress(); // the same port for the next
        }
        log.info("listening on {}", bindTo);
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
    return new JBouncer(
        pooler, transport, acceptor, workers, listeners, clients, controller, reloader);
  }

  /**
   * One listener on the workers (the acceptor group keeps the timers), so that a client accepted
   * onto the listener's own loop costs no thread wake-up. With {@code so_reuseport}, one listener
   * per worker loop, each keeping the clients it accepts: the kernel spreads connections over them
   * and no accepted client changes threads. Other processes of the same user may then share the
   * port, which is what PgBouncer's setting is for.
   */
  private static List<ServerBootstrap> listenerBootstraps(
      ServerBootstrap bootstrap, EventLoopGroup workers, Settings settings, Transport transport) {
    if (!settings.soReuseport()) {
      return List.of(bootstrap.clone().group(workers, workers));
    }
    List<ServerBootstrap> perLoop = new ArrayList<>();
    for (EventExecutor executor : workers) {
      EventLoop loop = (EventLoop) executor;
      perLoop.add(bootstrap.clone().group(loop, loop).option(transport.reusePort(), true));
    }
    return perLoop;
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
   * RELOAD: re-reads the config file and applies it; false when it was rejected (the reason is
   * logged) and the running settings stay. Not on an event loop: it reads files.
   */
  public boolean reload() {
    return reloader.reload();
  }

  /** PAUSE, RESUME, SUSPEND, SHUTDOWN...: what the admin console and the signals operate. */
  public Controller controller() {
    return controller;
  }

  // --- Controller.Process ---

  @Override
  public void acceptConnections(boolean accept) {
    listeners.forEach(l -> l.config().setAutoRead(accept));
  }

  @Override
  public void closeListeners() {
    listeners.forEach(Channel::close);
  }

  @Override
  public void exit() {
    Thread closer = new Thread(this::close, "jbouncer-exit"); // close() waits for the loops
    closer.setDaemon(false);
    closer.start();
  }

  /** Client and server channels, but for admin consoles: they stay readable through SUSPEND. */
  @Override
  public List<Channel> channels() {
    List<Channel> all = new ArrayList<>();
    for (Channel client : clients) {
      ClientConnection connection = client.pipeline().get(ClientConnection.class);
      if (connection == null || !connection.isConsole()) {
        all.add(client);
      }
    }
    for (Pool pool : pooler.pools()) {
      for (var server : pool.servers()) {
        all.add(server.channel());
      }
    }
    return all;
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

  /** Closes listeners, clients and servers; idempotent. */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    listeners.forEach(l -> l.close().syncUninterruptibly());
    pooler.closing();
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

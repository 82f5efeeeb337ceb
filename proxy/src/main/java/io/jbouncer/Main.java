package io.jbouncer;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import io.jbouncer.config.ConfigError;
import io.jbouncer.config.ConfigLoader;
import io.jbouncer.config.Settings;
import io.jbouncer.embedded.EmbeddedPostgres;
import io.jbouncer.lifecycle.PidFile;
import io.jbouncer.lifecycle.Signals;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command line, like PgBouncer's: {@code jbouncer [-v]... [-q] [-V] [-h] CONFIG_FILE}, plus
 * {@code jbouncer demo}, which starts a private PostgreSQL with jbouncer in front of it.
 *
 * <p>Logging goes to stderr at INFO; {@code -v} makes {@code io.jbouncer} log at DEBUG, {@code -vv}
 * at TRACE; {@code -q} turns stderr logging off. Fatal errors are printed as one {@code FATAL} line
 * even with {@code -q}. Given {@code -Dlogback.configurationFile}, that file decides and only the
 * levels and {@code -q} are applied on top.
 *
 * <p>Runs until SIGTERM or SIGINT; a shutdown hook closes jbouncer (and in demo mode then
 * PostgreSQL).
 *
 * @see <a href="https://www.pgbouncer.org/usage.html">PgBouncer usage</a>
 */
public final class Main {
  private static final String USAGE =
      "jbouncer is a connection pooler for PostgreSQL.\n"
          + "\n"
          + "Usage:\n"
          + "  jbouncer [OPTION]... CONFIG_FILE\n"
          + "  jbouncer [OPTION]... demo\n"
          + "\n"
          + "Options:\n"
          + "  -d, --daemon     run in the background (with the ./jbouncer launcher; needs pidfile\n"
          + "                   and logfile)\n"
          + "  -q, --quiet      run quietly (no logging to stderr)\n"
          + "  -v, --verbose    more logging: -v debug, -vv trace\n"
          + "  -V, --version    show version, then exit\n"
          + "  -h, --help       show this help, then exit\n"
          + "\n"
          + "`demo` starts a throw-away PostgreSQL and a jbouncer in front of it, for trying\n"
          + "jbouncer out (a configuration file called demo: write ./demo).\n";

  private static final String DEMO = "demo";
  private static final int DEMO_PORT = 6432;

  private Main() {}

  public static void main(String[] args) {
    if (System.getProperty("io.netty.leakDetection.level") == null) {
      // Netty tracks one buffer in 128 by default, recording a stack trace each time: a cost on
      // every connection of a production pooler. The tests run at paranoid; so may anyone with
      // -Dio.netty.leakDetection.level=paranoid in JAVA_OPTS. A property, not the setter, so that
      // no Netty class loads (and logs) before the logging is configured.
      System.setProperty("io.netty.leakDetection.level", "disabled");
    }
    int status = run(args, System.out, System.err);
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.stop(); // writes out what the asynchronous appenders still hold
    }
    System.exit(status);
  }

  /** Parses {@code args} and runs; returns the exit code once jbouncer has stopped. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    int verbosity = 0;
    boolean quiet = false;
    boolean daemon = false;
    boolean check = false;
    List<String> positional = new ArrayList<>();
    boolean optionsEnded = false;
    for (String arg : args) {
      if (optionsEnded || !arg.startsWith("-") || arg.equals("-")) {
        positional.add(arg);
        continue;
      }
      switch (arg) {
        case "--":
          optionsEnded = true;
          continue;
        case "--verbose":
          verbosity++;
          continue;
        case "--quiet":
          quiet = true;
          continue;
        case "--daemon":
          daemon = true;
          continue;
        case "--check": // the launcher's: check the configuration for -d, then exit
          check = true;
          continue;
        case "--version":
          out.println("jbouncer " + version());
          return 0;
        case "--help":
          out.print(USAGE);
          return 0;
        default:
          break;
      }
      if (arg.startsWith("--")) {
        return usageError(err, "unknown option: " + arg);
      }
      for (char c : arg.substring(1).toCharArray()) {
        switch (c) {
          case 'v':
            verbosity++;
            break;
          case 'q':
            quiet = true;
            break;
          case 'd':
            daemon = true;
            break;
          case 'V':
            out.println("jbouncer " + version());
            return 0;
          case 'h':
            out.print(USAGE);
            return 0;
          default:
            return usageError(err, "unknown option: -" + c);
        }
      }
    }
    if (positional.isEmpty()) {
      return usageError(err, "no configuration file specified");
    }
    if (positional.size() > 1) {
      return usageError(err, "too many arguments: " + String.join(" ", positional));
    }

    configureLogging(verbosity, quiet || (daemon && !check));
    try {
      return positional.get(0).equals(DEMO)
          ? demo(out, err)
          : serve(Path.of(positional.get(0)), daemon, check, err);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  private static int serve(Path configFile, boolean daemon, boolean check, PrintStream err)
      throws InterruptedException {
    Settings settings;
    try {
      settings = ConfigLoader.load(configFile);
    } catch (ConfigError e) {
      return fatal(err, e.getMessage(), null);
    } catch (RuntimeException e) {
      return fatal(err, "cannot load config file " + configFile + ": " + e, e);
    }
    if (daemon && settings.pidfile() == null) {
      return fatal(err, "daemon needs pidfile configured", null);
    }
    if (daemon && settings.logfile() == null) {
      return fatal(err, "daemon needs logfile configured", null);
    }
    PidFile pidFile;
    try {
      pidFile = settings.pidfile() == null ? null : PidFile.check(settings.pidfile());
    } catch (ConfigError e) {
      return fatal(err, e.getMessage(), null);
    }
    if (check) {
      return 0;
    }
    if (settings.logfile() != null) {
      logToFile(settings.logfile());
    }
    JBouncer jbouncer = start(settings, err);
    if (jbouncer == null) {
      return 1;
    }
    if (pidFile != null) {
      try {
        pidFile.write();
      } catch (ConfigError e) {
        jbouncer.close();
        return fatal(err, e.getMessage(), null);
      }
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  jbouncer.close();
                  if (pidFile != null) {
                    pidFile.remove();
                  }
                },
                "jbouncer-shutdown"));
    Signals.install(jbouncer);
    jbouncer.awaitTermination();
    return 0;
  }

  /** Starts jbouncer; prints the failure and returns null if it cannot. */
  private static @Nullable JBouncer start(Settings settings, PrintStream err)
      throws InterruptedException {
    try {
      return JBouncer.start(settings);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) { // Netty rethrows checked bind errors undeclared
      BindException bind = causeOf(e, BindException.class);
      String message = bind != null ? bind.getMessage() : String.valueOf(e.getMessage());
      if (bind != null || message.contains("Address already in use")) {
        fatal(
            err,
            "cannot listen on "
                + String.join(",", settings.listenAddr())
                + " port "
                + settings.listenPort()
                + ": "
                + message,
            null);
      } else {
        fatal(err, "cannot start: " + e, e);
      }
      return null;
    }
  }

  /**
   * A private PostgreSQL (role and database {@code demo}, password {@code demo}, created in
   * single-user mode so that no JDBC driver is needed at run time) and jbouncer in front of it with
   * a generated jbouncer.ini, on port 6432 or, if that is taken, a free one.
   */
  private static int demo(PrintStream out, PrintStream err) throws InterruptedException {
    Demo demo = new Demo();
    Thread hook = new Thread(demo::close, "jbouncer-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook); // before anything exists that could be left behind
    try {
      try {
        demo.pg =
            EmbeddedPostgres.builder()
                .bootstrapSql("CREATE ROLE demo LOGIN PASSWORD 'demo'")
                .bootstrapSql("CREATE DATABASE demo OWNER demo")
                .start();
      } catch (IOException e) {
        return fatal(err, "demo: cannot start PostgreSQL: " + e.getMessage(), null);
      }
      EmbeddedPostgres pg = demo.pg;
      demo.dir = Files.createTempDirectory("jbouncer-demo-");
      Path userlist = demo.dir.resolve("userlist.txt");
      Files.writeString(userlist, "\"demo\" \"demo\"\n", StandardCharsets.UTF_8);
      Path ini = demo.dir.resolve("jbouncer.ini");
      Files.writeString(
          ini,
          "; generated by `jbouncer demo`\n"
              + "[databases]\n"
              + "demo = host="
              + pg.host()
              + " port="
              + pg.port()
              + " dbname=demo\n"
              + "\n"
              + "[pgbouncer]\n"
              + "listen_addr = 127.0.0.1\n"
              + "listen_port = "
              + demoPort()
              + "\n"
              + "auth_type = scram-sha-256\n"
              + "auth_file = "
              + userlist
              + "\n"
              + "pool_mode = transaction\n"
              + "default_pool_size = 10\n"
              + "ignore_startup_parameters = extra_float_digits\n" // sent by JDBC drivers
              + "admin_users = demo\n",
          StandardCharsets.UTF_8);
      Settings settings = ConfigLoader.load(ini);
      JBouncer jbouncer = start(settings, err);
      if (jbouncer == null) {
        return 1;
      }
      demo.jbouncer = jbouncer;
      Signals.install(jbouncer);
      int port = jbouncer.localAddress().getPort();
      out.println();
      out.println("jbouncer demo is running:");
      out.println("  PostgreSQL 17 (throw-away) on " + pg.host() + ":" + pg.port());
      out.println("  jbouncer on 127.0.0.1:" + port + " with " + ini);
      out.println();
      out.println("Connect with:");
      out.println(
          "  psql \"host=127.0.0.1 port=" + port + " dbname=demo user=demo password=demo\"");
      out.println("or:");
      out.println("  PGPASSWORD=demo psql -h 127.0.0.1 -p " + port + " -U demo demo");
      out.println();
      out.println("Press Ctrl-C to stop jbouncer and PostgreSQL.");
      out.flush();
      jbouncer.awaitTermination();
      return 0;
    } catch (ConfigError e) {
      return fatal(err, e.getMessage(), null);
    } catch (IOException | RuntimeException e) {
      return fatal(err, "demo: " + e, e);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
      demo.close();
    }
  }

  /** What the demo started, closed in reverse order by whoever comes first: hook or main. */
  private static final class Demo {
    volatile @Nullable EmbeddedPostgres pg;
    volatile @Nullable Path dir;
    volatile @Nullable JBouncer jbouncer;

    synchronized void close() {
      JBouncer j = jbouncer;
      if (j != null) {
        j.close();
      }
      EmbeddedPostgres p = pg;
      if (p != null) {
        p.close();
      }
      deleteQuietly(dir);
    }
  }

  /** 6432 if it is free on 127.0.0.1, else any free port. */
  private static int demoPort() throws IOException {
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress("127.0.0.1", DEMO_PORT));
      return DEMO_PORT;
    } catch (IOException taken) {
      try (ServerSocket any = new ServerSocket()) {
        any.bind(new InetSocketAddress("127.0.0.1", 0));
        return any.getLocalPort();
      }
    }
  }

  private static void deleteQuietly(@Nullable Path dir) {
    if (dir == null) {
      return;
    }
    try (var files = Files.list(dir)) {
      for (Iterator<Path> it = files.iterator(); it.hasNext(); ) {
        Files.deleteIfExists(it.next());
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a temp directory: the OS cleans up eventually
    }
  }

  private static int usageError(PrintStream err, String message) {
    err.println(message);
    err.println();
    err.print(USAGE);
    return 1;
  }

  /** Prints {@code FATAL message}; the stack trace only goes to the DEBUG log (-v). */
  private static int fatal(PrintStream err, String message, @Nullable Throwable cause) {
    err.println("FATAL " + message);
    if (cause != null) {
      LoggerFactory.getLogger(Main.class).debug("stack trace", cause);
    }
    return 1;
  }

  private static <T extends Throwable> @Nullable T causeOf(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /** Implementation-Version from the jar manifest; "dev" when run from classes. */
  static String version() {
    String version = Main.class.getPackage().getImplementationVersion();
    return version != null ? version : "dev";
  }

  private static void configureLogging(int verbosity, boolean quiet) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext)) {
      return; // another SLF4J provider: its own configuration decides
    }
    LoggerContext context = (LoggerContext) factory;
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    if (System.getProperty("logback.configurationFile") == null) {
      context.reset();
      root.setLevel(Level.INFO);
      if (!quiet) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(
            "%d{yyyy-MM-dd HH:mm:ss.SSS z} [" + ProcessHandle.current().pid() + "] %level %msg%n");
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("stderr");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        root.addAppender(offTheLoops(context, stderr));
      }
    } else if (quiet) {
      for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
        Appender<ILoggingEvent> appender = it.next();
        if (appender instanceof ConsoleAppender) {
          root.detachAppender(appender);
        }
      }
    }
    if (verbosity > 0) {
      context.getLogger("io.jbouncer").setLevel(verbosity == 1 ? Level.DEBUG : Level.TRACE);
    }
  }

  /** Adds PgBouncer's {@code logfile}: the same lines, appended to the file. */
  private static void logToFile(Path file) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      return;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(
        "%d{yyyy-MM-dd HH:mm:ss.SSS z} [" + ProcessHandle.current().pid() + "] %level %msg%n");
    encoder.start();
    FileAppender<ILoggingEvent> appender = new FileAppender<>();
    appender.setContext(context);
    appender.setName("logfile");
    appender.setFile(file.toString());
    appender.setAppend(true);
    appender.setEncoder(encoder);
    appender.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(offTheLoops(context, appender));
  }

  /**
   * Wraps {@code appender} so that event loops hand log lines to a queue instead of writing to
   * stderr or disk themselves. Nothing is dropped: when the queue is full, loggers wait.
   */
  private static Appender<ILoggingEvent> offTheLoops(
      LoggerContext context, Appender<ILoggingEvent> appender) {
    AsyncAppender async = new AsyncAppender();
    async.setContext(context);
    async.setName(appender.getName() + "-async");
    async.setQueueSize(8192);
    async.setDiscardingThreshold(0);
    async.setNeverBlock(false);
    async.addAppender(appender);
    async.start();
    return async;
  }
}

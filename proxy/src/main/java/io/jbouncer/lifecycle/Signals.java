package io.jbouncer.lifecycle;

import io.jbouncer.JBouncer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * PgBouncer's signals, with its log lines: SIGHUP reloads; SIGTERM shuts down once every client has
 * left, SIGINT once every server is released (a second one of either, or either while suspended: at
 * once); SIGQUIT at once; SIGUSR1 pauses; SIGUSR2 resumes.
 *
 * <p>The JVM keeps SIGQUIT for thread dumps, so the {@code ./jbouncer} launcher, which stays in the
 * foreground as the JVM's parent, turns SIGQUIT into SIGPWR, handled here as SIGQUIT. It also moves
 * HotSpot's thread-suspend signal, SIGUSR2 by default, to signal 40: JFR's sampler suspends threads
 * with it, and each sample would otherwise reach the SIGUSR2 handler as a RESUME. Handlers run on
 * the JVM's signal thread, never on an event loop.
 *
 * @see <a href="https://www.pgbouncer.org/usage.html#signals">PgBouncer's signals</a>
 */
public final class Signals {
  private static final Logger log = LoggerFactory.getLogger(Signals.class);

  /** What the launcher sends for SIGQUIT. */
  public static final String QUIT_STAND_IN = "PWR";

  private final JBouncer bouncer;
  private final AtomicBoolean shuttingDown = new AtomicBoolean();

  private Signals(JBouncer bouncer) {
    this.bouncer = bouncer;
  }

  /** Handles the signals for {@code bouncer} from now on. */
  public static void install(JBouncer bouncer) {
    Signals signals = new Signals(bouncer);
    handle("HUP", signals::hup);
    handle("TERM", () -> signals.shutdown("SIGTERM", Controller.Shutdown.WAIT_FOR_CLIENTS));
    handle("INT", () -> signals.shutdown("SIGINT", Controller.Shutdown.WAIT_FOR_SERVERS));
    handle(QUIT_STAND_IN, signals::quit);
    handle("USR1", signals::pause);
    handle("USR2", signals::resume);
    // HotSpot's thread-suspend signal is SIGUSR2 (12) unless _JAVA_SR_SIGNUM names another
    String suspendSignal = System.getenv("_JAVA_SR_SIGNUM");
    if (suspendSignal == null || suspendSignal.trim().equals("12")) {
      log.warn(
          "SIGUSR2 is also the JVM's thread-suspend signal: a profiler (JFR) would RESUME"
              + " jbouncer; start it with ./jbouncer or with _JAVA_SR_SIGNUM=40 set");
    }
  }

  private static void handle(String name, Runnable action) {
    try {
      SignalHandler before = Signal.handle(new Signal(name), signal -> action.run());
      if (before == SignalHandler.SIG_IGN) {
        // HotSpot keeps SIGHUP, SIGTERM and SIGINT ignored when they were ignored at start (as
        // nohup does with SIGHUP): the handler above will never run
        log.warn(
            "SIG{} was ignored when jbouncer started (nohup?) and stays ignored: use the admin"
                + " console instead{}",
            name,
            name.equals("HUP") ? " (RELOAD)" : "");
      }
    } catch (IllegalArgumentException e) {
      log.warn("cannot handle SIG{}: {}", name, e.getMessage());
    }
  }

  private void hup() {
    log.info("got SIGHUP, re-reading config");
    bouncer.reload(); // a failure is logged, and the running settings stay
  }

  private void shutdown(String signal, Controller.Shutdown mode) {
    Controller controller = bouncer.controller();
    if (controller.isSuspended()) {
      log.info("suspend was in progress, going down immediately");
      controller.exit();
      return;
    }
    if (!shuttingDown.compareAndSet(false, true)) {
      log.info("got {} while shutting down, fast exit", signal);
      controller.exit();
      return;
    }
    log.info(
        mode == Controller.Shutdown.WAIT_FOR_CLIENTS
            ? "got SIGTERM, shutting down, waiting for all clients disconnect"
            : "got SIGINT, shutting down, waiting for all servers connections to be released");
    controller.shutdown(mode);
  }

  private void quit() {
    log.info("got SIGQUIT, fast exit");
    bouncer.controller().exit();
  }

  private void pause() {
    if (bouncer.controller().pause(null) != null) {
      log.info("got SIGUSR1, but already paused/suspended");
    } else {
      log.info("got SIGUSR1, pausing all activity");
    }
  }

  private void resume() {
    Controller controller = bouncer.controller();
    if (controller.shutdown() != Controller.Shutdown.NONE) {
      log.info("got SIGUSR2 while shutting down, ignoring");
      return;
    }
    boolean suspended = controller.isSuspended();
    if (controller.resume(null) != null) {
      log.info("got SIGUSR2, but not paused/suspended");
    } else {
      log.info(
          suspended
              ? "got SIGUSR2, continuing from SUSPEND"
              : "got SIGUSR2, continuing from PAUSE");
    }
  }
}

package io.jbouncer.it;

import java.time.Duration;
import java.util.concurrent.Callable;

/** Polls a condition until it holds, failing with {@code what} after a deadline. */
final class Await {
  private Await() {}

  static void until(String what, Callable<Boolean> condition) throws Exception {
    until(what, Duration.ofSeconds(15), condition);
  }

  static void until(String what, Duration limit, Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.call()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + limit.toSeconds() + " s: " + what);
      }
      Thread.sleep(20);
    }
  }
}

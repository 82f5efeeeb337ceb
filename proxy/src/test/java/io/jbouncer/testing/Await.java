package io.jbouncer.testing;

import java.time.Duration;
import java.util.concurrent.Callable;

/** Polls a condition until it holds, failing with {@code what} after a deadline. */
public final class Await {
  private Await() {}

  public static void until(String what, Callable<Boolean> condition) throws Exception {
    until(what, Duration.ofSeconds(15), condition);
  }

  public static void until(String what, Duration limit, Callable<Boolean> condition)
      throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.call()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + limit.toSeconds() + " s: " + what);
      }
      Thread.sleep(20);
    }
  }

  /**
   * Asserts that {@code future} is still not done after a short while: for "it waits" checks, which
   * need a bounded wait.
   */
  public static void stillPending(String what, java.util.concurrent.Future<?> future)
      throws Exception {
    try {
      Object result = future.get(300, java.util.concurrent.TimeUnit.MILLISECONDS);
      throw new AssertionError("done, but should still wait: " + what + " (got " + result + ")");
    } catch (java.util.concurrent.TimeoutException expected) {
      // still waiting, as it should
    }
  }
}

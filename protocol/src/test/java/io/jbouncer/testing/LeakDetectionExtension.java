package io.jbouncer.testing;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leaked buffer, instead of only logging it.
 *
 * <p>Registered for every test class through {@code META-INF/services} and {@code
 * junit.jupiter.extensions.autodetection.enabled=true} (each module's {@code
 * junit-platform.properties}). Loading this class installs, once, a {@link
 * ResourceLeakDetectorFactory} whose detectors record each leak report. That must happen before
 * Netty creates the buffer leak detector (when {@code AbstractByteBuf} is initialized), which is
 * why it is done at class loading, when JUnit instantiates its extensions, before any test class
 * runs; {@link #beforeAll} checks it worked. After each test class, {@link #afterAll} collects
 * garbage, allocates a few buffers (Netty reports leaks when it tracks a new buffer) and fails with
 * every report recorded since the previous check. A leak is found when its buffer is collected, so
 * it may be blamed on a later class than the one that leaked it: the report's access records say
 * where.
 *
 * <p>Surefire runs tests with {@code -Dio.netty.leakDetection.level=paranoid}; without that
 * property (in an IDE, say) this class sets the level to paranoid itself.
 */
public final class LeakDetectionExtension implements BeforeAllCallback, AfterAllCallback {
  /** A hint that marks a leak made on purpose by a test: recorded, but not logged. */
  static final String DELIBERATE_LEAK = "deliberate leak";

  private static final Queue<String> REPORTS = new ConcurrentLinkedQueue<>();
  private static final int GC_ROUNDS = 3;

  static {
    if (System.getProperty("io.netty.leakDetection.level") == null
        && System.getProperty("io.netty.leakDetectionLevel") == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    Object detector = bufferLeakDetector();
    if (detector != null && !(detector instanceof RecordingDetector)) {
      throw new ExtensionConfigurationException(
          "Netty's buffer leak detector is a "
              + detector.getClass().getName()
              + ", not "
              + RecordingDetector.class.getName()
              + ": something used a ByteBuf before JUnit loaded "
              + LeakDetectionExtension.class.getSimpleName());
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    collectGarbage(GC_ROUNDS);
    failOnLeaks(context.getDisplayName());
  }

  /** Throws if any leak was reported, clearing the reports. */
  static void failOnLeaks(String where) {
    List<String> leaks = take(report -> true);
    if (!leaks.isEmpty()) {
      throw new AssertionError(
          leaks.size()
              + " leak(s) reported by Netty after "
              + where
              + ":\n\n"
              + String.join("\n\n", leaks));
    }
  }

  /**
   * Collects garbage until a report matching {@code filter} turns up or {@code timeout} passes,
   * then removes and returns the matching reports. For tests of the leak detection itself.
   */
  static List<String> awaitReports(Predicate<String> filter, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (REPORTS.stream().noneMatch(filter) && System.nanoTime() < deadline) {
      collectGarbage(1);
    }
    return take(filter);
  }

  /** Records a report as the detectors do. For tests of the failure path. */
  static void record(String report) {
    REPORTS.add(report);
  }

  private static List<String> take(Predicate<String> filter) {
    List<String> taken = new ArrayList<>();
    for (Iterator<String> it = REPORTS.iterator(); it.hasNext(); ) {
      String report = it.next();
      if (filter.test(report)) {
        taken.add(report);
        it.remove();
      }
    }
    return taken;
  }

  private static void collectGarbage(int rounds) {
    for (int i = 0; i < rounds; i++) {
      System.gc();
      try {
        Thread.sleep(20); // the reference handler thread enqueues the collected trackers
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      for (int j = 0; j < 8; j++) { // each tracked allocation drains the detector's queue
        PooledByteBufAllocator.DEFAULT.heapBuffer(1).release();
        PooledByteBufAllocator.DEFAULT.directBuffer(1).release();
      }
    }
  }

  private static Object bufferLeakDetector() {
    try {
      Field field =
          Class.forName("io.netty.buffer.AbstractByteBuf").getDeclaredField("leakDetector");
      field.setAccessible(true);
      return field.get(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null; // another Netty version: the deliberate-leak test still proves it works
    }
  }

  private static final class RecordingFactory extends ResourceLeakDetectorFactory {
    @Override
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(
        Class<T> resource, int samplingInterval) {
      return new RecordingDetector<>(resource, samplingInterval);
    }

    @Override
    @SuppressWarnings("deprecation") // the abstract method Netty still requires
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(
        Class<T> resource, int samplingInterval, long maxActive) {
      return new RecordingDetector<>(resource, samplingInterval);
    }
  }

  private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
    RecordingDetector(Class<?> resource, int samplingInterval) {
      super(resource, samplingInterval);
    }

    @Override
    protected boolean needReport() {
      return true; // whatever the logging configuration says
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
      REPORTS.add("LEAK: " + resourceType + ".release() was not called" + records);
      if (!records.contains(DELIBERATE_LEAK)) {
        super.reportTracedLeak(resourceType, records); // logs it too
      }
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
      REPORTS.add("LEAK: " + resourceType + ".release() was not called (no access records)");
      super.reportUntracedLeak(resourceType); // logs it too
    }
  }
}

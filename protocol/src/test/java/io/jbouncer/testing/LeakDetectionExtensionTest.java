package io.jbouncer.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class LeakDetectionExtensionTest {

  @Test
  void recordsALeakedBuffer() {
    String marker = LeakDetectionExtension.DELIBERATE_LEAK + " " + UUID.randomUUID();
    leak(marker);

    // takes only this report, so the build stays green
    List<String> reports =
        LeakDetectionExtension.awaitReports(r -> r.contains(marker), Duration.ofSeconds(10));

    assertThat(reports).hasSize(1);
    assertThat(reports.get(0))
        .startsWith("LEAK: ByteBuf.release() was not called")
        .contains(marker);
  }

  @Test
  void failsWhenALeakWasRecorded() {
    LeakDetectionExtension.record("LEAK: ByteBuf.release() was not called (test)");

    assertThatThrownBy(() -> LeakDetectionExtension.failOnLeaks("LeakDetectionExtensionTest"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("1 leak(s) reported by Netty after LeakDetectionExtensionTest")
        .hasMessageContaining("release() was not called (test)");
    LeakDetectionExtension.failOnLeaks("the reports were cleared"); // does not throw
  }

  private static void leak(String marker) {
    PooledByteBufAllocator.DEFAULT.heapBuffer(8).writeLong(42).touch(marker);
  }
}

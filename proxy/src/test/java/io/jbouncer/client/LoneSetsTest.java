package io.jbouncer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.protocol.backend.CommandComplete;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoneSetsTest {
  private static final String SET = "SET work_mem = '8MB'";
  private final LoneSets sets = new LoneSets();

  private void complete(String tag, long answered) {
    ByteBuf frame = new CommandComplete(tag).encodeTo(Unpooled.buffer());
    try {
      sets.commandComplete(frame, answered);
    } finally {
      frame.release();
    }
  }

  @Test
  void outsideATransactionItsTextIsTakenAtItsReadyForQuery() {
    sets.sent("work_mem", SET, 1);
    assertThat(sets.onItsWay()).isTrue();
    complete("SET", 0);
    assertThat(sets.readyForQuery('I', 1)).containsExactly(Map.entry("work_mem", SET));
    assertThat(sets.onItsWay()).isFalse();
    assertThat(sets.takeMustAsk()).isFalse();
  }

  @Test
  void theBindOfTheParseOnItsWayIsTheSameSet() {
    sets.sent("work_mem", SET, 3);
    assertThat(sets.isOnItsWay("work_mem", SET, 3)).isTrue();
    assertThat(sets.isOnItsWay("work_mem", "SET work_mem = '1MB'", 3)).isFalse();
    assertThat(sets.isOnItsWay("work_mem", SET, 4)).isFalse();
  }

  @Test
  void aFailedOneIsNotTakenAndTheServerIsAsked() {
    sets.sent("work_mem", "SET work_mem = 'lots'", 1);
    sets.error(0);
    assertThat(sets.readyForQuery('I', 1)).isEmpty();
    assertThat(sets.takeMustAsk()).isTrue();
  }

  @Test
  void aFailureAfterItBeforeTheSameSyncRollsItBack() {
    sets.sent("work_mem", SET, 1); // Parse, Bind, Execute of the SET, then of another statement
    complete("SET", 0);
    sets.error(0); // the implicit transaction of that Sync is rolled back
    assertThat(sets.readyForQuery('I', 1)).isEmpty();
    assertThat(sets.takeMustAsk()).isTrue();
  }

  @Test
  void notTheLastCommandBeforeItsSyncMeansAsking() {
    sets.sent("work_mem", SET, 1);
    complete("SET", 0);
    complete("SELECT 1", 0);
    assertThat(sets.readyForQuery('I', 1)).isEmpty();
    assertThat(sets.takeMustAsk()).isTrue();
  }

  @Test
  void insideATransactionItIsTakenWhenTheTransactionCommits() {
    complete("BEGIN", 0);
    assertThat(sets.readyForQuery('T', 1)).isEmpty();
    sets.sent("work_mem", SET, 2);
    complete("SET", 1);
    assertThat(sets.readyForQuery('T', 2)).isEmpty();
    complete("SELECT 1", 2);
    assertThat(sets.readyForQuery('T', 3)).isEmpty();
    complete("COMMIT", 3);
    assertThat(sets.readyForQuery('I', 4)).containsExactly(Map.entry("work_mem", SET));
    assertThat(sets.takeMustAsk()).isFalse();
  }

  @Test
  void aRollbackToSavepointOrAnErrorAfterItMeansAsking() {
    sets.sent("work_mem", SET, 2);
    complete("SET", 1);
    sets.readyForQuery('T', 2);
    complete("ROLLBACK", 2); // ROLLBACK TO SAVEPOINT has the same tag
    sets.readyForQuery('T', 3);
    complete("COMMIT", 3);
    assertThat(sets.readyForQuery('I', 4)).isEmpty();
    assertThat(sets.takeMustAsk()).isTrue();
    assertThat(sets.takeMustAsk()).as("once").isFalse();

    sets.sent("work_mem", SET, 6);
    complete("SET", 5);
    sets.readyForQuery('T', 6);
    sets.error(6);
    sets.readyForQuery('E', 7);
    complete("ROLLBACK", 7);
    assertThat(sets.readyForQuery('I', 8)).isEmpty();
    assertThat(sets.takeMustAsk()).isTrue();
  }

  @Test
  void theLastOfTwoInOneTransactionWins() {
    sets.sent("work_mem", "SET work_mem = '1MB'", 2);
    complete("SET", 1);
    sets.readyForQuery('T', 2);
    sets.sent("lock_timeout", "SET lock_timeout = '1s'", 3);
    complete("SET", 2);
    sets.readyForQuery('T', 3);
    sets.sent("work_mem", SET, 4);
    complete("SET", 3);
    sets.readyForQuery('T', 4);
    complete("COMMIT", 4);
    assertThat(sets.readyForQuery('I', 5))
        .containsExactly(
            Map.entry("lock_timeout", "SET lock_timeout = '1s'"), Map.entry("work_mem", SET));
  }
}

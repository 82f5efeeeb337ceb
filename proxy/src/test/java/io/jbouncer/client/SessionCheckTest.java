package io.jbouncer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.protocol.backend.DataRow;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionCheckTest {
  @Test
  void rowsGiveSettingsToReplayAndWhatPins() {
    SessionCheck check = new SessionCheck();
    feed(check, "s", "lock_timeout", "15000");
    feed(check, "s", "search_path", "\"$user\", public");
    feed(check, "s", "application_name", "odoo");
    feed(check, "p", "LISTEN", null);
    feed(check, "p", "advisory lock", null);
    assertThat(check.settings(name -> name.equals("application_name")))
        .containsExactly(
            Map.entry("lock_timeout", "15000"), Map.entry("search_path", "\"$user\", public"));
    assertThat(check.pinReason()).isEqualTo("LISTEN, advisory lock");
    assertThat(check.hasFailed()).isFalse();
  }

  @Test
  void noPinRowsMeansNothingPins() {
    SessionCheck check = new SessionCheck();
    feed(check, "s", "work_mem", "65536");
    assertThat(check.pinReason()).isNull();
    check.failed();
    assertThat(check.hasFailed()).isTrue();
  }

  @Test
  void syncResetsWhatTheClientLacksAndSetsWhatDiffers() {
    Map<String, String> wanted = new LinkedHashMap<>();
    wanted.put("lock_timeout", "15000");
    wanted.put("search_path", "\"$user\", it's");
    Map<String, String> server = new LinkedHashMap<>();
    server.put("lock_timeout", "15000");
    server.put("my.var", "x");
    assertThat(SessionCheck.syncStatement(wanted, server))
        .isEqualTo(
            "RESET \"my.var\";SELECT pg_catalog.set_config(E'search_path', E'\"$user\", it''s',"
                + " false);");
    assertThat(SessionCheck.syncStatement(Map.of(), server))
        .isEqualTo("RESET \"lock_timeout\";RESET \"my.var\";");
    assertThat(SessionCheck.syncStatement(wanted, wanted)).isEmpty();
  }

  private static void feed(SessionCheck check, String kind, String name, String value) {
    ByteBuf frame = DataRow.ofText(Arrays.asList(kind, name, value)).encodeTo(Unpooled.buffer());
    try {
      check.row(frame);
    } finally {
      frame.release();
    }
  }
}

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
    SessionCheck check = new SessionCheck(true, true);
    feed(check, "s", "lock_timeout", "15000");
    feed(check, "s", "search_path", "\"$user\", public");
    feed(check, "s", "application_name", "odoo");
    feed(check, "p", "LISTEN", null);
    feed(check, "p", "advisory lock", null);
    assertThat(check.settings(name -> name.equals("application_name")))
        .containsExactly(
            Map.entry(
                "lock_timeout", "SELECT pg_catalog.set_config(E'lock_timeout', E'15000', false)"),
            Map.entry(
                "search_path",
                "SELECT pg_catalog.set_config(E'search_path', E'\"$user\", public', false)"));
    assertThat(check.pinReason()).isEqualTo("LISTEN, advisory lock");
    assertThat(check.hasFailed()).isFalse();
  }

  @Test
  void noPinRowsMeansNothingPins() {
    SessionCheck check = new SessionCheck(true, false);
    feed(check, "s", "work_mem", "65536");
    assertThat(check.pinReason()).isNull();
    check.failed();
    assertThat(check.hasFailed()).isTrue();
  }

  @Test
  void syncResetsWhatTheClientLacksAndReplaysWhatDiffers() {
    Map<String, String> wanted = new LinkedHashMap<>();
    wanted.put("lock_timeout", "SET lock_timeout = '15s'");
    wanted.put("statement_timeout", "SET statement_timeout = 5000 -- per request");
    Map<String, String> server = new LinkedHashMap<>();
    server.put("lock_timeout", "SET lock_timeout = '15s'");
    server.put("my.var", "SELECT pg_catalog.set_config(E'my.var', E'x', false)");
    assertThat(SessionCheck.syncStatement(wanted, server))
        .isEqualTo("RESET \"my.var\";\nSET statement_timeout = 5000 -- per request\n;");
    assertThat(SessionCheck.syncStatement(Map.of(), server))
        .isEqualTo("RESET \"lock_timeout\";\nRESET \"my.var\";\n");
    assertThat(SessionCheck.syncStatement(wanted, wanted)).isEmpty();
  }

  @Test
  void theQueryAsksOnlyWhatIsNeeded() {
    String settingsOnly = new SessionCheck(true, false).query("app");
    assertThat(settingsOnly)
        .contains("pg_settings", "current_setting('role')", "session_user <> E'app'")
        .doesNotContain("pg_locks");
    assertThat(new SessionCheck(false, true).query("o'neil"))
        .contains("pg_locks", "pg_listening_channels", "session_user <> E'o''neil'")
        .doesNotContain("pg_settings");
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

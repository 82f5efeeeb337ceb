package io.jbouncer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DatabaseCommandsTest {
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      nullValues = "none",
      value = {
        "DROP DATABASE odoo_old | odoo_old",
        "drop database if exists \"Odoo Prod\" | Odoo Prod",
        "DROP DATABASE Mixed_Case WITH (FORCE) | mixed_case",
        "CREATE DATABASE copy TEMPLATE odoo | odoo",
        "CREATE DATABASE \"copy\" WITH OWNER = \"someone\" ENCODING = ''UTF8'' TEMPLATE = \"Odoo\" | Odoo",
        "CREATE DATABASE fresh | none",
        "ALTER DATABASE odoo RENAME TO odoo_old | odoo",
        "ALTER DATABASE odoo SET search_path = x | none",
        "DROP TABLE accounts | none",
        "CREATE TABLE database (x int) | none",
        "SELECT 1 | none",
        "'' | none",
      })
  void databaseToFree(String sql, String database) {
    byte[] text = (sql.equals("''") ? "" : sql).getBytes(StandardCharsets.UTF_8);
    ByteBuf frame = Unpooled.buffer();
    frame.writeByte('Q').writeInt(4 + text.length + 1).writeBytes(text).writeByte(0);
    try {
      assertThat(DatabaseCommands.databaseToFree(frame)).isEqualTo(database);
    } finally {
      frame.release();
    }
  }
}

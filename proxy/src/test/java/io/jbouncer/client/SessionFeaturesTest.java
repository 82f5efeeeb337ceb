package io.jbouncer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SessionFeaturesTest {
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      nullValues = "none",
      value = {
        "LISTEN imbus | LISTEN",
        "  listen \"cron_trigger\" | LISTEN",
        "-- the bus\\n/* and a comment */ LISTEN imbus | LISTEN",
        "CREATE TEMP TABLE t (x int) | CREATE TEMP",
        "create temporary table t as select 1 | CREATE TEMP",
        "CREATE TABLE temperature (x int) | none",
        "CREATE TABLE t (temp int) | none",
        "CREATE OR REPLACE TEMP VIEW v AS SELECT 1 | CREATE TEMP",
        "create global temporary table g (x int) | CREATE TEMP",
        "SELECT pg_advisory_lock(42) | advisory lock",
        "select PG_TRY_ADVISORY_LOCK_SHARED(1, 2) | advisory lock",
        "SELECT pg_advisory_xact_lock(42) | none",
        "select pg_advisory_unlock(42) | none",
        "SET search_path = app, public | session settings",
        "SET SESSION lock_timeout = '15s' | session settings",
        "SET myapp.user_id = 7 | session settings",
        "set intervalstyle to iso_8601 | session settings",
        "RESET lock_timeout | session settings",
        "RESET ALL | session settings",
        "DISCARD PLANS | session settings",
        "SET SESSION ROLE reporting | SET ROLE",
        "SET LOCAL search_path = x | none",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE | none",
        "SET application_name = 'odoo' | none",
        "set DateStyle to ISO | none",
        "SET TIME ZONE UTC | none",
        "SET NAMES UTF8 | none",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY | session settings",
        "SET ROLE reporting | SET ROLE",
        "SET SESSION AUTHORIZATION someone | SET SESSION AUTHORIZATION",
        "SELECT set_config('search_path', '', false) | session settings",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1 | DECLARE ... WITH HOLD",
        "DECLARE c CURSOR FOR SELECT 1 | none",
        "PREPARE p (int) AS SELECT $1 | PREPARE",
        "BEGIN ISOLATION LEVEL REPEATABLE READ | none",
        "SELECT abalance FROM pgbench_accounts WHERE aid = 7 | none",
        "DISCARD ALL | session settings",
        "SELECT 1; LISTEN later | LISTEN",
        "select set_config('request.jwt.claims', $1, true) | none",
        "select set_config('search_path', $1, true), set_config('role', $2, TRUE) | none",
        "select set_config('a', 'x)', 't') | none",
        "select set_config('a', f(1, 2), $3) | session settings",
        "select set_config('a', 'x', true), set_config('b', 'y', false) | session settings",
        "select set_config('x', 'y', false), pg_advisory_lock(1) | advisory lock",
        "select set_config('a', 'b', true), pg_try_advisory_lock(1) | advisory lock",
        "select set_config('a', 'b' | session settings",
        "SELECT 1; SET search_path = x; SELECT 2 | session settings",
        "SET search_path = x; SELECT pg_advisory_lock(1) | advisory lock",
        "SELECT 1; SELECT 2; | none",
        "SELECT 'a;b' | none",
        "'' | none",
      })
  void pinReasons(String sql, String reason) {
    assertThat(read(sql.equals("''") ? "" : sql.replace("\\n", "\n"), SessionFeatures::pinReason))
        .isEqualTo(reason);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      nullValues = "none",
      value = {
        "SET statement_timeout = 5000 | statement_timeout",
        "set session Search_Path TO tenant_7, public; | search_path",
        "SET myapp.user_id = 42 | myapp.user_id",
        "SET work_mem = '64MB' -- per report | work_mem",
        "SET LOCAL work_mem = '64MB' | none",
        "SET ROLE reporting | none",
        "SET TIME ZONE UTC | none",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY | none",
        "SET search_path = a; SELECT 1 | none",
        "SET application_name = 'a;b' | none",
        "SELECT 1 | none",
      })
  void loneSets(String sql, String name) {
    assertThat(read(sql, SessionFeatures::loneSetName)).isEqualTo(name);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "UNLISTEN * | true",
        "unlisten imbus | true",
        "SELECT pg_advisory_unlock_all() | true",
        "select pg_advisory_unlock(42) | true",
        "DROP TABLE tmp_x | true",
        "CLOSE c | true",
        "DEALLOCATE ALL | true",
        "DISCARD TEMP | true",
        "RESET ROLE | true",
        "SET SESSION AUTHORIZATION DEFAULT | true",
        "SELECT 1 | false",
        "COMMIT | false",
        "SELECT pg_advisory_lock(1) | false",
        "LISTEN imbus | false",
      })
  void statementsThatMayEndAPin(String sql, boolean may) {
    assertThat(read(sql, SessionFeatures::mayEndPin)).isEqualTo(may);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      nullValues = "none",
      value = {
        "SET SESSION search_path TO 'public' | search_path", // pgjdbc's setSchema
        "SET x = 1; SELECT 1 | none",
        "LISTEN x | none",
      })
  void loneSetsInAParse(String sql, String name) {
    byte[] text = sql.getBytes(StandardCharsets.UTF_8);
    ByteBuf parse = Unpooled.buffer();
    parse.writeByte('P').writeInt(4 + 2 + text.length + 1 + 2).writeBytes(new byte[] {'s', 0});
    parse.writeBytes(text).writeByte(0).writeShort(0);
    try {
      assertThat(SessionFeatures.loneSetName(parse)).isEqualTo(name);
      if (name != null) {
        assertThat(SessionFeatures.sqlText(parse)).isEqualTo(sql);
      }
    } finally {
      parse.release();
    }
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "RESET application_name | true",
        "reset all; | true",
        "DISCARD ALL | true",
        "RESET | false",
        "RESET a; SELECT 1 | false",
        "DISCARD PLANS | false",
        "SET application_name = x | false",
      })
  void loneResets(String sql, boolean lone) {
    assertThat(read(sql, SessionFeatures::isLoneReset)).isEqualTo(lone);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "DISCARD ALL | true",
        "discard all; | true",
        "  Discard   All  | true",
        "DISCARD ALL; SELECT 1 | false",
        "DISCARD TEMP | false",
        "DISCARD | false",
        "SELECT 'DISCARD ALL' | false",
      })
  void discardAllAlone(String sql, boolean alone) {
    assertThat(read(sql, SessionFeatures::isDiscardAll)).isEqualTo(alone);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      nullValues = "none",
      value = {
        "BEGIN | BEGIN",
        "begin; | BEGIN",
        "BEGIN ISOLATION LEVEL REPEATABLE READ | BEGIN",
        "START TRANSACTION ISOLATION LEVEL READ COMMITTED | START TRANSACTION",
        "BEGIN WORK | BEGIN",
        "BEGIN ISOLATION LEVEL SERIALIZABLE | none",
        "BEGIN READ WRITE | none",
        "BEGIN; SELECT 1 | none",
        "BEGINNING | none",
      })
  void deferrableBegins(String sql, String tag) {
    assertThat(read(sql, SessionFeatures::deferrableBeginTag)).isEqualTo(tag);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      nullValues = "none",
      value = {
        "COMMIT | COMMIT",
        "end; | COMMIT",
        "ROLLBACK | ROLLBACK",
        "abort work | ROLLBACK",
        "COMMIT AND CHAIN | none",
        "ROLLBACK TO SAVEPOINT a | none",
        "COMMIT PREPARED x | none",
      })
  void transactionEnds(String sql, String tag) {
    assertThat(read(sql, SessionFeatures::transactionEndTag)).isEqualTo(tag);
  }

  /** What {@code reader} finds in a Query of {@code sql}; the frame is released after. */
  private static <T> T read(String sql, Function<ByteBuf, T> reader) {
    ByteBuf query = query(sql);
    try {
      return reader.apply(query);
    } finally {
      query.release();
    }
  }

  private static ByteBuf query(String sql) {
    byte[] text = sql.getBytes(StandardCharsets.UTF_8);
    ByteBuf frame = Unpooled.buffer();
    frame.writeByte('Q').writeInt(4 + text.length + 1).writeBytes(text).writeByte(0);
    return frame;
  }
}

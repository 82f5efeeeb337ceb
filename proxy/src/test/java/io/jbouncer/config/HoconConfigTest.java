package io.jbouncer.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class HoconConfigTest {
  @TempDir Path dir;

  private Path write(String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return file;
  }

  @Test
  void hoconFileWithTheSameLayout() throws IOException {
    Path conf =
        write(
            "jbouncer.conf",
            """
            jbouncer {
              pgbouncer {
                listen_addr = ["127.0.0.1", "::1"]
                listen_port = 7432
                pool_mode = transaction
                default_pool_size = 15
                auth_file = userlist.txt
                server_idle_timeout = 5 minutes
                server_connect_timeout = 2.5
                query_wait_timeout = "500ms"
                log_connections = false
                admin_users = "admin, ops"
              }
              databases {
                app { host = db1, port = 5433, dbname = appdb, pool_size = 10, reserve_pool = 2 }
                "*" = "host=fallback port=5434 datestyle=ISO"
              }
              users {
                alice { pool_mode = statement, max_user_connections = 3 }
              }
            }
            """);
    Settings s = ConfigLoader.load(conf);
    assertThat(s.configFile()).isEqualTo(conf);
    assertThat(s.listenAddr()).containsExactly("127.0.0.1", "::1");
    assertThat(s.listenPort()).isEqualTo(7432);
    assertThat(s.poolMode()).isEqualTo(PoolMode.TRANSACTION);
    assertThat(s.defaultPoolSize()).isEqualTo(15);
    assertThat(s.authFile()).isEqualTo(dir.resolve("userlist.txt"));
    assertThat(s.serverIdleTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(s.serverConnectTimeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(s.queryWaitTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.logConnections()).isFalse();
    assertThat(s.adminUsers()).containsExactly("admin", "ops");
    assertThat(s.maxClientConn()).isEqualTo(100);

    DatabaseSettings app = s.databases().get("app");
    assertThat(app.host()).isEqualTo("db1");
    assertThat(app.port()).isEqualTo(5433);
    assertThat(app.dbname()).isEqualTo("appdb");
    assertThat(app.poolSize()).isEqualTo(10);
    assertThat(app.reservePoolSize()).isEqualTo(2);
    DatabaseSettings star = s.database("unknown");
    assertThat(star.name()).isEqualTo("*");
    assertThat(star.port()).isEqualTo(5434);
    assertThat(star.startupParameters()).containsEntry("DateStyle", "ISO");
    assertThat(s.users().get("alice").poolMode()).isEqualTo(PoolMode.STATEMENT);
    assertThat(s.users().get("alice").maxUserConnections()).isEqualTo(3);
  }

  @Test
  void errorsNameTheHoconFileAndLine() throws IOException {
    Path conf =
        write(
            "jbouncer.conf",
            """
            jbouncer.pgbouncer {
              listen_port = 6432
              default_pool_size = ten
            }
            """);
    assertThatThrownBy(() -> ConfigLoader.load(conf))
        .isInstanceOf(ConfigError.class)
        .hasMessage(conf + ":3: default_pool_size: \"ten\" (expected: an integer)");
  }

  @Test
  void databaseErrorsInHocon() throws IOException {
    Path conf =
        write(
            "jbouncer.conf",
            """
            jbouncer.databases {
              db { host = x
                   sslmode = require }
            }
            """);
    assertThatThrownBy(() -> ConfigLoader.load(conf))
        .isInstanceOf(ConfigError.class)
        .hasMessage(conf + ":3: [databases] db: unrecognized connection parameter: sslmode");

    Path reserved = write("reserved.conf", "jbouncer.databases.pgbouncer.host = x\n");
    assertThatThrownBy(() -> ConfigLoader.load(reserved))
        .isInstanceOf(ConfigError.class)
        .hasMessage(reserved + ":1: database name \"pgbouncer\" is reserved");
  }

  @Test
  void hoconSyntaxError() throws IOException {
    Path conf = write("bad.conf", "jbouncer {\n  pgbouncer {\n    listen_port = \n}\n");
    assertThatThrownBy(() -> ConfigLoader.load(conf))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith("cannot load config file: " + conf + ": 4: ");
  }

  @Test
  void missingHoconFile() {
    Path nope = dir.resolve("nope.conf");
    assertThatThrownBy(() -> ConfigLoader.load(nope))
        .isInstanceOf(ConfigError.class)
        .hasMessage("cannot load config file: " + nope + ": No such file");
  }

  @Test
  void unknownKeysAreWarnings() throws IOException {
    Logger logger = (Logger) LoggerFactory.getLogger("io.jbouncer.config");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      Path conf =
          write("jbouncer.conf", "jbouncer {\n  pgbouncr { }\n  pgbouncer.pool_sise = 3\n}\n");
      ConfigLoader.load(conf);
      assertThat(appender.list)
          .filteredOn(e -> e.getLevel() == Level.WARN)
          .extracting(ILoggingEvent::getFormattedMessage)
          .containsExactlyInAnyOrder(
              conf + ":2: unknown key jbouncer.pgbouncr, ignored",
              conf + ":3: unknown parameter: pgbouncer/pool_sise, ignored");
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void fromConfigForTestsAndEmbedding() {
    Settings s =
        ConfigLoader.fromConfig(
            ConfigFactory.parseString(
                """
                jbouncer.pgbouncer.listen_port = 0
                jbouncer.pgbouncer.auth_file = users.txt
                jbouncer.databases.db.host = 127.0.0.1
                """));
    assertThat(s.listenPort()).isZero();
    assertThat(s.authFile()).isEqualTo(Path.of("users.txt"));
    assertThat(s.databases().get("db").host()).isEqualTo("127.0.0.1");
    assertThat(s.configFile()).isNull();
  }

  @Test
  void fromConfigReportsBadValues() {
    assertThatThrownBy(
            () ->
                ConfigLoader.fromConfig(
                    ConfigFactory.parseString("jbouncer.pgbouncer.pool_mode = none")))
        .isInstanceOf(ConfigError.class)
        .hasMessage("String: 1: pool_mode: \"none\" (expected: session, transaction or statement)");
  }
}

package io.jbouncer.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jbouncer.auth.UserList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class IniConfigTest {
  @TempDir Path dir;

  private Path write(String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    return file;
  }

  private Settings load(String text) throws IOException {
    return ConfigLoader.load(write("pgbouncer.ini", text));
  }

  /** Loads {@code text} expecting {@code message}, where {@code @} stands for the file's path. */
  private void assertError(String text, String message) throws IOException {
    Path ini = write("pgbouncer.ini", text);
    assertThatThrownBy(() -> ConfigLoader.load(ini))
        .isInstanceOf(ConfigError.class)
        .hasMessage(message.replace("@", ini.toString()))
        .satisfies(e -> assertThat(e.getStackTrace()).isEmpty());
  }

  @Test
  void fullFileWithAllSections() throws IOException {
    Path ini =
        write(
            "pgbouncer.ini",
            """
            ;; comment
            # another comment
            [databases]
            app = host=db1.example.com port=5433 dbname=appdb user=app password=s3cret auth_user=lookup auth_dbname=authdb auth_query='SELECT u, p FROM f($1)' client_encoding=UTF8 datestyle=ISO timezone=UTC application_name=web pool_size=30 min_pool_size=2 reserve_pool_size=3 max_db_connections=40 max_db_client_connections=400 server_lifetime=1200 query_wait_timeout=30 pool_mode=Statement load_balance_hosts=disable connect_query='SELECT 1'
            foodb =
            legacy = host=/var/run/postgresql reserve_pool=4

            [users]
            alice = pool_mode=transaction pool_size=5 reserve_pool_size=1 max_user_connections=10 max_user_client_connections=50 query_timeout=30 query_wait_timeout=-1 idle_transaction_timeout=0 transaction_timeout=60.5 client_idle_timeout=600
            bob = query_wait_timeout=0

            [peers]
            1 = host=/tmp/pgbouncer1
            2 = host=10.0.0.2 port=6433

            [pgbouncer]
            listen_addr = 127.0.0.1, ::1
            listen_port = 7432
            auth_type = SCRAM-SHA-256
            auth_file = users/userlist.txt
            auth_hba_file = /etc/jbouncer/hba.conf
            pool_mode = transaction
            default_pool_size = 25
            max_client_conn = 1000
            server_reset_query = DISCARD ALL; SELECT 1
            ignore_startup_parameters = extra_float_digits, options
            admin_users = admin,root
            stats_users = stats
            server_lifetime = 0.5
            query_wait_timeout = 0
            log_connections = 0
            unix_socket_mode = 0770
            max_packet_size = 0x10000
            client_tls_sslmode = verify-full
            client_tls_key_file = tls/server.key
            worker_threads = 4
            """);
    Settings s = ConfigLoader.load(ini);

    assertThat(s.configFile()).isEqualTo(ini);
    assertThat(s.listenAddr()).containsExactly("127.0.0.1", "::1");
    assertThat(s.listenPort()).isEqualTo(7432);
    assertThat(s.authType()).isEqualTo(AuthType.SCRAM_SHA_256);
    assertThat(s.authFile()).isEqualTo(dir.resolve("users/userlist.txt"));
    assertThat(s.authHbaFile()).isEqualTo(Path.of("/etc/jbouncer/hba.conf"));
    assertThat(s.poolMode()).isEqualTo(PoolMode.TRANSACTION);
    assertThat(s.defaultPoolSize()).isEqualTo(25);
    assertThat(s.maxClientConn()).isEqualTo(1000);
    assertThat(s.serverResetQuery()).isEqualTo("DISCARD ALL; SELECT 1");
    assertThat(s.ignoreStartupParameters()).containsExactly("extra_float_digits", "options");
    assertThat(s.adminUsers()).containsExactly("admin", "root");
    assertThat(s.statsUsers()).containsExactly("stats");
    assertThat(s.serverLifetime()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.queryWaitTimeout()).isZero();
    assertThat(s.logConnections()).isFalse();
    assertThat(s.unixSocketMode()).isEqualTo(0770);
    assertThat(s.maxPacketSize()).isEqualTo(65536);
    assertThat(s.clientTls().sslmode()).isEqualTo(SslMode.VERIFY_FULL);
    assertThat(s.clientTls().keyFile()).isEqualTo(dir.resolve("tls/server.key"));
    assertThat(s.workerThreads()).isEqualTo(4);

    assertThat(s.databases()).containsOnlyKeys("app", "foodb", "legacy");
    assertThat(s.databases().get("app"))
        .isEqualTo(
            new DatabaseSettings(
                "app",
                "db1.example.com",
                5433,
                "appdb",
                "app",
                "s3cret",
                30,
                2,
                3,
                PoolMode.STATEMENT,
                40,
                400,
                1200,
                Map.of(
                    "client_encoding", "UTF8",
                    "DateStyle", "ISO",
                    "TimeZone", "UTC",
                    "application_name", "web"),
                "SELECT 1",
                "lookup",
                "SELECT u, p FROM f($1)",
                "authdb",
                Duration.ofSeconds(30),
                LoadBalanceHosts.DISABLE,
                null));
    assertThat(s.databases().get("foodb"))
        .isEqualTo(
            new DatabaseSettings(
                "foodb",
                null,
                5432,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                0,
                0,
                null,
                Map.of(),
                null,
                null,
                null,
                null,
                null,
                LoadBalanceHosts.ROUND_ROBIN,
                null));
    assertThat(s.databases().get("legacy").host()).isEqualTo("/var/run/postgresql");
    assertThat(s.databases().get("legacy").reservePoolSize()).isEqualTo(4);

    assertThat(s.users().get("alice"))
        .isEqualTo(
            new UserSettings(
                "alice",
                PoolMode.TRANSACTION,
                5,
                1,
                10,
                50,
                Duration.ofSeconds(30),
                null,
                null,
                Duration.ofMillis(60_500),
                Duration.ofSeconds(600)));
    assertThat(s.users().get("bob").queryWaitTimeout()).isZero();
    assertThat(s.users().get("bob").poolSize()).isNull();
  }

  @Test
  void startupParametersKeepTheirOrder() throws IOException {
    Settings s =
        load(
            """
            [databases]
            db = application_name=x timezone=UTC datestyle=ISO client_encoding=UTF8
            [pgbouncer]
            """);
    assertThat(s.databases().get("db").startupParameters().keySet())
        .containsExactly("client_encoding", "DateStyle", "TimeZone", "application_name");
  }

  @Test
  void quotedValuesInConnectionStrings() throws IOException {
    Settings s =
        load(
            """
            [databases]
            db = host=localhost password='it''s a secret' connect_query='SET search_path = a, b'  application_name='x=y'
            [pgbouncer]
            """);
    DatabaseSettings db = s.databases().get("db");
    assertThat(db.password()).isEqualTo("it's a secret");
    assertThat(db.connectQuery()).isEqualTo("SET search_path = a, b");
    assertThat(db.startupParameters()).containsEntry("application_name", "x=y");
  }

  @Test
  void quotedDatabaseNames() throws IOException {
    Settings s =
        load(
            "[databases]\n"
                + "\"my db\" = host=a\n"
                + "\"say \"\"hi\"\"\" = host=b\n"
                + "'dotted.name' = host=c\n"
                + "[pgbouncer]\n");
    assertThat(s.databases()).containsOnlyKeys("my db", "say \"hi\"", "dotted.name");
  }

  @Test
  void valuesAreTakenAsWritten() throws IOException {
    Settings s =
        load(
            """
            [pgbouncer]
               server_reset_query   =   "DISCARD ALL" ; not a comment
            login_notify_message = welcome # to jbouncer
            """);
    assertThat(s.serverResetQuery()).isEqualTo("\"DISCARD ALL\" ; not a comment");
    assertThat(s.loginNotifyMessage()).isEqualTo("welcome # to jbouncer");
  }

  @Test
  void laterLinesWin() throws IOException {
    Settings s =
        load(
            """
            [databases]
            db = host=a port=1111 pool_size=3
            [pgbouncer]
            default_pool_size = 5
            [databases]
            db = host=b
            [pgbouncer]
            default_pool_size = 7
            """);
    assertThat(s.defaultPoolSize()).isEqualTo(7);
    assertThat(s.databases().get("db").host()).isEqualTo("b");
    assertThat(s.databases().get("db").port()).isEqualTo(5432);
    assertThat(s.databases().get("db").poolSize()).isNull();
  }

  @Test
  void integersAndSwitchesAsPgbouncerReadsThem() throws IOException {
    Settings s =
        load(
            """
            [pgbouncer]
            default_pool_size = 010
            max_client_conn = 0x1F
            log_disconnections = 2
            log_pooler_errors = off
            server_round_robin = true
            """);
    assertThat(s.defaultPoolSize()).isEqualTo(8);
    assertThat(s.maxClientConn()).isEqualTo(31);
    assertThat(s.logDisconnections()).isTrue();
    assertThat(s.logPoolerErrors()).isFalse();
    assertThat(s.serverRoundRobin()).isTrue();
  }

  @Test
  void listenAddrStar() throws IOException {
    assertThat(load("[pgbouncer]\nlisten_addr = *\n").listenAddr()).containsExactly("*");
    assertThat(load("[pgbouncer]\nlisten_addr =\n").listenAddr()).isEmpty();
  }

  @Test
  void starIsTheFallbackDatabase() throws IOException {
    Settings s =
        load(
            """
            [databases]
            * = host=fallback port=5433
            known = host=known
            [pgbouncer]
            """);
    assertThat(s.database("known").host()).isEqualTo("known");
    assertThat(s.database("anything").name()).isEqualTo("*");
    assertThat(s.database("anything").host()).isEqualTo("fallback");
    assertThat(s.database("anything").dbname()).isNull();
    assertThat(load("[pgbouncer]\n").database("anything")).isNull();
  }

  @Test
  void includeIsRelativeToTheIncludingFile() throws IOException {
    write(
        "conf.d/databases.ini",
        """
        [databases]
        inc = host=included
        %include more/users.ini
        """);
    write("conf.d/more/users.ini", "[users]\nbob = pool_size=3\n");
    Settings s =
        load(
            """
            [pgbouncer]
            default_pool_size = 11
            %include conf.d/databases.ini
            ; the section of the include stays current, as in PgBouncer
            carol = pool_size=4
            [pgbouncer]
            max_client_conn = 12
            """);
    assertThat(s.defaultPoolSize()).isEqualTo(11);
    assertThat(s.maxClientConn()).isEqualTo(12);
    assertThat(s.databases()).containsOnlyKeys("inc");
    assertThat(s.users()).containsOnlyKeys("bob", "carol");
  }

  @Test
  void errorsInIncludedFilesNameThatFile() throws IOException {
    Path inc = write("inc.ini", "[pgbouncer]\n\nlisten_port = x\n");
    assertError(
        "[pgbouncer]\n%include inc.ini\n", inc + ":3: listen_port: \"x\" (expected: an integer)");
  }

  @Test
  void includeLoop() throws IOException {
    write("a.ini", "%include b.ini\n");
    write("b.ini", "\n%include a.ini\n");
    Path b = dir.resolve("b.ini");
    assertError("[pgbouncer]\n%include a.ini\n", b + ":2: %include a.ini: include loop");
  }

  @Test
  void includeOfItself() throws IOException {
    assertError(
        "[pgbouncer]\n%include pgbouncer.ini\n", "@:2: %include pgbouncer.ini: include loop");
  }

  @Test
  void includeNestingLimit() throws IOException {
    for (int i = 1; i < 12; i++) {
      write("n" + i + ".ini", "%include n" + (i + 1) + ".ini\n");
    }
    write("n12.ini", "");
    assertError(
        "[pgbouncer]\n%include n1.ini\n",
        dir.resolve("n10.ini")
            + ":1: %include n11.ini: nesting too deep (expected: at most 10 levels)");
  }

  @Test
  void missingInclude() throws IOException {
    assertError(
        "[pgbouncer]\n%include nope.ini\n",
        "@:2: %include " + dir.resolve("nope.ini") + ": No such file");
  }

  @Test
  void relativeFilesAreResolvedAgainstTheConfigDirectory() throws IOException {
    Path ini =
        write(
            "etc/jb/pgbouncer.ini",
            """
            [pgbouncer]
            auth_file = userlist.txt
            auth_ident_file = ../ident.map
            logfile = log/jbouncer.log
            pidfile = /run/jbouncer.pid
            server_tls_ca_file = ca.pem
            """);
    Settings s = ConfigLoader.load(ini);
    Path etc = dir.resolve("etc/jb");
    assertThat(s.authFile()).isEqualTo(etc.resolve("userlist.txt"));
    assertThat(s.authIdentFile()).isEqualTo(dir.resolve("etc/ident.map"));
    assertThat(s.logfile()).isEqualTo(etc.resolve("log/jbouncer.log"));
    assertThat(s.pidfile()).isEqualTo(Path.of("/run/jbouncer.pid"));
    assertThat(s.serverTls().caFile()).isEqualTo(etc.resolve("ca.pem"));
  }

  @Test
  void conffileIsWhatReloadReads() throws IOException {
    Settings s = load("[pgbouncer]\nconffile = other.ini\n");
    assertThat(s.configFile()).isEqualTo(dir.resolve("other.ini"));
  }

  @Test
  void unknownKeyIsAWarningNamingFileAndLine() throws IOException {
    Logger logger = (Logger) LoggerFactory.getLogger("io.jbouncer.config");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      Path ini = write("pgbouncer.ini", "[pgbouncer]\nlisten_port = 7000\nlisten_prot = 7001\n");
      Settings s = ConfigLoader.load(ini);
      assertThat(s.listenPort()).isEqualTo(7000);
      assertThat(appender.list)
          .filteredOn(e -> e.getLevel() == Level.WARN)
          .extracting(ILoggingEvent::getFormattedMessage)
          .containsExactly(ini + ":3: unknown parameter: pgbouncer/listen_prot, ignored");
      assertThat(s.params()).extracting(ConfigParam::key).doesNotContain("listen_prot");
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void peersAreIgnoredWithADebugLine() throws IOException {
    Logger logger = (Logger) LoggerFactory.getLogger("io.jbouncer.config");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    Level level = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    try {
      Path ini = write("pgbouncer.ini", "[peers]\n1 = host=/tmp/x\n[pgbouncer]\n");
      ConfigLoader.load(ini);
      assertThat(appender.list)
          .extracting(ILoggingEvent::getLevel, ILoggingEvent::getFormattedMessage)
          .contains(
              org.assertj.core.groups.Tuple.tuple(
                  Level.DEBUG, ini + ":2: [peers] 1 ignored: peering is not supported yet"));
    } finally {
      logger.setLevel(level);
      logger.detachAppender(appender);
    }
  }

  // ---- errors, each message exactly

  @Test
  void missingFile() {
    Path nope = dir.resolve("nope.ini");
    assertThatThrownBy(() -> ConfigLoader.load(nope))
        .isInstanceOf(ConfigError.class)
        .hasMessage("cannot load config file: " + nope + ": No such file");
  }

  @Test
  void nonNumericPoolSize() throws IOException {
    assertError(
        "[pgbouncer]\n\n\n\n\n\ndefault_pool_size = ten\n",
        "@:7: default_pool_size: \"ten\" (expected: an integer)");
  }

  @Test
  void negativeSize() throws IOException {
    assertError(
        "[pgbouncer]\nmax_client_conn = -1\n",
        "@:2: max_client_conn: \"-1\" (expected: an integer >= 0)");
  }

  @Test
  void unknownPoolMode() throws IOException {
    assertError(
        "[pgbouncer]\npool_mode = sessions\n",
        "@:2: pool_mode: \"sessions\" (expected: session, transaction or statement)");
  }

  @Test
  void unknownAuthType() throws IOException {
    assertError(
        "[pgbouncer]\nauth_type = scram\n",
        "@:2: auth_type: \"scram\" (expected: any, trust, plain, md5, scram-sha-256, cert, hba, pam"
            + " or ldap)");
  }

  @Test
  void badListenPort() throws IOException {
    assertError(
        "[pgbouncer]\nlisten_port = 65536\n",
        "@:2: listen_port: \"65536\" (expected: an integer between 0 and 65535)");
  }

  @Test
  void badDatabasePort() throws IOException {
    assertError(
        "[databases]\ndb = host=x port=0\n[pgbouncer]\n",
        "@:2: [databases] db: port: \"0\" (expected: an integer between 1 and 65535)");
    assertError(
        "[databases]\ndb = host=x port=5432x\n[pgbouncer]\n",
        "@:2: [databases] db: port: \"5432x\" (expected: an integer)");
  }

  @Test
  void badTime() throws IOException {
    assertError(
        "[pgbouncer]\nserver_lifetime = -5\n",
        "@:2: server_lifetime: \"-5\" (expected: a number of seconds >= 0)");
    assertError(
        "[pgbouncer]\nquery_timeout = soon\n",
        "@:2: query_timeout: \"soon\" (expected: a number of seconds >= 0)");
  }

  @Test
  void badSwitch() throws IOException {
    assertError("[pgbouncer]\nlog_stats = maybe\n", "@:2: log_stats: \"maybe\" (expected: 0 or 1)");
  }

  @Test
  void badDatabasePoolMode() throws IOException {
    assertError(
        "[databases]\ndb = pool_mode=txn\n[pgbouncer]\n",
        "@:2: [databases] db: pool_mode: \"txn\" (expected: session, transaction or statement)");
  }

  @Test
  void badUserPoolSize() throws IOException {
    assertError(
        "[users]\nbob = pool_size=-2\n[pgbouncer]\n",
        "@:2: [users] bob: pool_size: \"-2\" (expected: an integer >= 0)");
  }

  @Test
  void unknownConnectionParameter() throws IOException {
    assertError(
        "[databases]\ndb = host=x sslmode=require\n[pgbouncer]\n",
        "@:2: [databases] db: unrecognized connection parameter: sslmode");
  }

  @Test
  void unknownUserParameter() throws IOException {
    assertError(
        "[users]\nbob = max_db_connections=3\n[pgbouncer]\n",
        "@:2: [users] bob: unrecognized user parameter: max_db_connections");
  }

  @Test
  void reservedDatabaseName() throws IOException {
    assertError(
        "[databases]\npgbouncer = host=x\n[pgbouncer]\n",
        "@:2: database name \"pgbouncer\" is reserved");
  }

  @Test
  void connectionStringSyntax() throws IOException {
    assertError(
        "[databases]\ndb = host=x password='open\n[pgbouncer]\n",
        "@:2: [databases] db: syntax error in connection string: unterminated quoted value for"
            + " password");
    assertError(
        "[users]\nbob = pool_size\n[pgbouncer]\n",
        "@:2: [users] bob: syntax error in user settings: expected key=value at \"pool_size\"");
  }

  @Test
  void fileSyntax() throws IOException {
    assertError("[pgbouncer\n", "@:1: syntax error (expected: [section])");
    assertError("[pgbouncer]\nlisten_port 6432\n", "@:2: syntax error (expected: key = value)");
    assertError("[pgbouncer]\n\"open = 1\n", "@:2: syntax error (expected: key = value)");
    assertError(
        "[pgbouncer]\n[pgbouncer2]\n",
        "@:2: unknown section [pgbouncer2] (expected: pgbouncer, databases, users or peers)");
    assertError("listen_port = 1\n[pgbouncer]\n", "@:1: listen_port is outside of any section");
    assertError("[pgbouncer]\n%include\n", "@:2: %include: missing file name");
  }

  @Test
  void mainSectionIsRequiredAsInPgbouncer() throws IOException {
    assertError(
        "[databases]\ndb = host=x\n", "@: main section [pgbouncer] missing from config file");
  }

  // ---- the example configuration in conf/

  @Test
  void exampleConfigurationLoads() {
    Path ini = Path.of("../conf/jbouncer.ini");
    Settings s = ConfigLoader.load(ini);
    assertThat(s.listenAddr()).isEqualTo(List.of("127.0.0.1"));
    assertThat(s.listenPort()).isEqualTo(6432);
    assertThat(s.authType()).isEqualTo(AuthType.MD5);
    assertThat(s.poolMode()).isEqualTo(PoolMode.TRANSACTION);
    assertThat(s.defaultPoolSize()).isEqualTo(20);
    assertThat(s.databases().get("postgres").host()).isEqualTo("127.0.0.1");
    assertThat(s.databases().get("postgres").port()).isEqualTo(5432);
    assertThat(s.authFile())
        .isEqualTo(Path.of("../conf/userlist.txt").toAbsolutePath().normalize());
    UserList users = UserList.load(s.authFile());
    assertThat(users.users()).containsExactly("postgres", "app_user");
  }

  /** The pool engine's settings are each shown, with a comment, in the example configuration. */
  @Test
  void exampleConfigurationExplainsEveryPoolSetting() throws IOException {
    List<String> lines = java.nio.file.Files.readAllLines(Path.of("../conf/jbouncer.ini"));
    for (String key :
        List.of(
            "pool_mode",
            "default_pool_size",
            "min_pool_size",
            "reserve_pool_size",
            "reserve_pool_timeout",
            "max_client_conn",
            "max_db_connections",
            "max_user_connections",
            "max_db_client_connections",
            "max_user_client_connections",
            "server_lifetime",
            "server_idle_timeout",
            "server_connect_timeout",
            "server_login_retry",
            "server_check_query",
            "server_check_delay",
            "server_reset_query",
            "server_reset_query_always",
            "server_fast_close",
            "query_timeout",
            "query_wait_timeout",
            "query_wait_notify",
            "client_idle_timeout",
            "client_login_timeout",
            "idle_transaction_timeout",
            "transaction_timeout",
            "cancel_wait_timeout",
            "server_round_robin",
            "tcp_keepalive",
            "tcp_keepidle",
            "tcp_keepintvl",
            "tcp_keepcnt",
            "tcp_user_timeout",
            "pkt_buf",
            "max_packet_size",
            "dns_max_ttl",
            "dns_nxdomain_ttl")) {
      int at = -1;
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).matches(";?" + key + " = .*")) {
          at = i;
          break;
        }
      }
      assertThat(at).as("%s is in conf/jbouncer.ini", key).isPositive();
      int comment = at - 1;
      while (comment > 0 && lines.get(comment).matches(";?[a-z_0-9]+ = .*")) {
        comment--; // a group of keys shares the comment above it
      }
      assertThat(lines.get(comment)).as("a comment above %s", key).startsWith(";;");
    }
  }
}

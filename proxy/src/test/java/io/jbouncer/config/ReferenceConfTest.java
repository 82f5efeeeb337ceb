package io.jbouncer.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** reference.conf against PgBouncer 1.25 (src/main.c, doc/config.md). */
class ReferenceConfTest {
  /** PgBouncer 1.25's [pgbouncer] keys on Linux, alphabetical as SHOW CONFIG lists them. */
  private static final List<String> PGBOUNCER_KEYS =
      List.of(
          "admin_users",
          "application_name_add_host",
          "auth_dbname",
          "auth_file",
          "auth_hba_file",
          "auth_ident_file",
          "auth_ldap_options",
          "auth_query",
          "auth_type",
          "auth_user",
          "autodb_idle_timeout",
          "cancel_wait_timeout",
          "client_idle_timeout",
          "client_login_timeout",
          "client_tls13_ciphers",
          "client_tls_ca_file",
          "client_tls_cert_file",
          "client_tls_ciphers",
          "client_tls_dheparams",
          "client_tls_ecdhcurve",
          "client_tls_key_file",
          "client_tls_protocols",
          "client_tls_sslmode",
          "conffile",
          "default_pool_size",
          "disable_pqexec",
          "dns_max_ttl",
          "dns_nxdomain_ttl",
          "dns_zone_check_period",
          "idle_transaction_timeout",
          "ignore_startup_parameters",
          "job_name",
          "listen_addr",
          "listen_backlog",
          "listen_port",
          "log_connections",
          "log_disconnections",
          "log_pooler_errors",
          "log_stats",
          "logfile",
          "login_notify_message",
          "max_client_conn",
          "max_db_client_connections",
          "max_db_connections",
          "max_packet_size",
          "max_prepared_statements",
          "max_user_client_connections",
          "max_user_connections",
          "min_pool_size",
          "peer_id",
          "pidfile",
          "pkt_buf",
          "pool_idle_timeout",
          "pool_mode",
          "query_timeout",
          "query_wait_notify",
          "query_wait_timeout",
          "reserve_pool_size",
          "reserve_pool_timeout",
          "resolv_conf",
          "sbuf_loopcnt",
          "scram_iterations",
          "server_check_delay",
          "server_check_query",
          "server_connect_timeout",
          "server_fast_close",
          "server_idle_timeout",
          "server_lifetime",
          "server_login_retry",
          "server_reset_query",
          "server_reset_query_always",
          "server_round_robin",
          "server_tls13_ciphers",
          "server_tls_ca_file",
          "server_tls_cert_file",
          "server_tls_ciphers",
          "server_tls_key_file",
          "server_tls_protocols",
          "server_tls_sslmode",
          "so_reuseport",
          "stats_period",
          "stats_users",
          "suspend_timeout",
          "syslog",
          "syslog_facility",
          "syslog_ident",
          "tcp_defer_accept",
          "tcp_keepalive",
          "tcp_keepcnt",
          "tcp_keepidle",
          "tcp_keepintvl",
          "tcp_socket_buffer",
          "tcp_user_timeout",
          "track_extra_parameters",
          "transaction_timeout",
          "unix_socket_dir",
          "unix_socket_group",
          "unix_socket_mode",
          "user",
          "verbose");

  private static final Settings DEFAULTS = ConfigLoader.fromConfig(ConfigFactory.empty());

  @Test
  void everyPgbouncerKeyIsThereOnceInShowConfigOrder() {
    assertThat(PGBOUNCER_KEYS).hasSize(100);
    List<String> keys = Arrays.stream(Param.values()).map(Param::key).toList();
    assertThat(keys.subList(0, keys.size() - 3)).containsExactlyElementsOf(PGBOUNCER_KEYS);
    assertThat(keys.subList(keys.size() - 3, keys.size()))
        .containsExactly("defer_begin", "session_state", "worker_threads"); // jbouncer's own
  }

  @Test
  void referenceConfDefinesExactlyTheKnownKeys() {
    var reference =
        ConfigFactory.parseResources(ReferenceConfTest.class, "/reference.conf")
            .getObject("jbouncer.pgbouncer");
    assertThat(reference.keySet())
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(Param.values()).map(Param::key).toList());
  }

  @Test
  void defaultsArePgbouncers() {
    Settings s = DEFAULTS;
    assertThat(s.listenAddr()).isEmpty();
    assertThat(s.listenPort()).isEqualTo(6432);
    assertThat(s.listenBacklog()).isEqualTo(128);
    assertThat(s.authType()).isEqualTo(AuthType.MD5);
    assertThat(s.authFile()).isNull();
    assertThat(s.poolMode()).isEqualTo(PoolMode.SESSION);
    assertThat(s.defaultPoolSize()).isEqualTo(20);
    assertThat(s.minPoolSize()).isZero();
    assertThat(s.reservePoolSize()).isZero();
    assertThat(s.maxClientConn()).isEqualTo(100);
    assertThat(s.maxDbConnections()).isZero();
    assertThat(s.maxUserConnections()).isZero();
    assertThat(s.serverResetQuery()).isEqualTo("DISCARD ALL");
    assertThat(s.serverResetQueryAlways()).isFalse();
    assertThat(s.ignoreStartupParameters()).isEmpty();
    assertThat(s.serverConnectTimeout()).isEqualTo(Duration.ofSeconds(15));
    assertThat(s.serverLoginRetry()).isEqualTo(Duration.ofSeconds(15));
    assertThat(s.clientLoginTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.serverIdleTimeout()).isEqualTo(Duration.ofSeconds(600));
    assertThat(s.serverLifetime()).isEqualTo(Duration.ofSeconds(3600));
    assertThat(s.queryWaitTimeout()).isEqualTo(Duration.ofSeconds(120));
    assertThat(s.maxPacketSize()).isEqualTo(2147483647);
    assertThat(s.pktBuf()).isEqualTo(4096);
    assertThat(s.adminUsers()).isEmpty();
    assertThat(s.statsUsers()).isEmpty();
    assertThat(s.logConnections()).isTrue();
    assertThat(s.logDisconnections()).isTrue();
    assertThat(s.logPoolerErrors()).isTrue();
    assertThat(s.applicationNameAddHost()).isFalse();
    assertThat(s.workerThreads()).isZero();
    assertThat(s.databases()).isEmpty();
    assertThat(s.users()).isEmpty();
    assertThat(s.configFile()).isNull();

    assertThat(s.queryTimeout()).isZero();
    assertThat(s.queryWaitNotify()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.cancelWaitTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.clientIdleTimeout()).isZero();
    assertThat(s.idleTransactionTimeout()).isZero();
    assertThat(s.transactionTimeout()).isZero();
    assertThat(s.autodbIdleTimeout()).isEqualTo(Duration.ofSeconds(3600));
    assertThat(s.poolIdleTimeout()).isZero();
    assertThat(s.suspendTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.reservePoolTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.serverCheckDelay()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.serverCheckQuery()).isEqualTo("<empty>");
    assertThat(s.serverFastClose()).isFalse();
    assertThat(s.serverRoundRobin()).isFalse();
    assertThat(s.maxDbClientConnections()).isZero();
    assertThat(s.maxUserClientConnections()).isZero();
    assertThat(s.maxPreparedStatements()).isEqualTo(200);
    assertThat(s.sbufLoopcnt()).isEqualTo(5);
    assertThat(s.statsPeriod()).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.logStats()).isTrue();
    assertThat(s.verbose()).isZero();
    assertThat(s.authHbaFile()).isNull();
    assertThat(s.authIdentFile()).isNull();
    assertThat(s.authUser()).isNull();
    assertThat(s.authQuery())
        .isEqualTo(
            "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END"
                + " FROM pg_authid WHERE rolname=$1 AND rolcanlogin");
    assertThat(s.authDbname()).isNull();
    assertThat(s.scramIterations()).isEqualTo(4096);
    assertThat(s.disablePqexec()).isFalse();
    assertThat(s.trackExtraParameters()).containsExactly("IntervalStyle");
    assertThat(s.loginNotifyMessage()).isNull();
    assertThat(s.unixSocketDir()).isEqualTo("/tmp");
    assertThat(s.unixSocketMode()).isEqualTo(0777);
    assertThat(s.soReuseport()).isFalse();
    assertThat(s.tcpDeferAccept()).isTrue();
    assertThat(s.tcpKeepalive()).isTrue();
    assertThat(s.tcpKeepcnt()).isZero();
    assertThat(s.tcpKeepidle()).isZero();
    assertThat(s.tcpKeepintvl()).isZero();
    assertThat(s.tcpUserTimeout()).isZero();
    assertThat(s.tcpSocketBuffer()).isZero();
    assertThat(s.clientTls())
        .isEqualTo(
            new TlsSettings(
                SslMode.DISABLE, null, null, null, "secure", "default", null, "auto", "auto"));
    assertThat(s.serverTls())
        .isEqualTo(
            new TlsSettings(
                SslMode.PREFER, null, null, null, "secure", "default", null, null, null));
    assertThat(s.logfile()).isNull();
    assertThat(s.pidfile()).isNull();
    assertThat(s.peerId()).isZero();
  }

  @Test
  void showConfigRowsPrintValuesAsPgbouncerAndKnowWhatReloadChanges() {
    Map<String, ConfigParam> params =
        DEFAULTS.params().stream().collect(Collectors.toMap(ConfigParam::key, Function.identity()));
    assertThat(DEFAULTS.params()).hasSize(103); // PgBouncer's 100 and jbouncer's 3
    assertThat(params.get("server_lifetime"))
        .isEqualTo(new ConfigParam("server_lifetime", "3600", "3600", true));
    assertThat(params.get("auth_type")).isEqualTo(new ConfigParam("auth_type", "md5", "md5", true));
    assertThat(params.get("listen_port"))
        .isEqualTo(new ConfigParam("listen_port", "6432", "6432", false));
    assertThat(params.get("unix_socket_mode"))
        .isEqualTo(new ConfigParam("unix_socket_mode", "511", "0777", false));
    assertThat(params.get("log_connections"))
        .isEqualTo(new ConfigParam("log_connections", "1", "1", true));
    assertThat(params.get("auth_file")).isEqualTo(new ConfigParam("auth_file", "", "", true));
    assertThat(params.get("server_check_query").value()).isEqualTo("<empty>");
    assertThat(params.get("worker_threads").changeable()).isFalse();
    assertThat(params.get("session_state"))
        .isEqualTo(new ConfigParam("session_state", "pin", "pin", true));
  }

  @Test
  void secondsPrintLikePgbouncer() {
    assertThat(SettingsReader.seconds(Duration.ofMillis(500))).isEqualTo("0.5");
    assertThat(SettingsReader.seconds(Duration.ofSeconds(3600))).isEqualTo("3600");
    assertThat(SettingsReader.seconds(Duration.ZERO)).isEqualTo("0");
    assertThat(SettingsReader.seconds(Duration.ofNanos(1_500))).isEqualTo("0.000001");
  }
}

package io.jbouncer.it;

import io.jbouncer.JBouncer;
import io.jbouncer.config.ConfigLoader;
import io.jbouncer.testing.TestPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A jbouncer started from a real pgbouncer.ini written to a temp dir, in front of the test JVM's
 * PostgreSQL. {@code ${PGPORT}} in the ini text is replaced by PostgreSQL's port.
 */
final class ProxyFixture implements AutoCloseable {
  static final String USERLIST =
      """
      "scram_user" "scram_pass"
      "md5_user" "md5_pass"
      "clear_user" "clear_pass"
      "trust_user" "trust_pass"
      """;

  private final JBouncer bouncer;

  private ProxyFixture(JBouncer bouncer) {
    this.bouncer = bouncer;
  }

  /** The usual test setup plus {@code extra} lines appended to [pgbouncer] (later keys win). */
  static ProxyFixture start(Path dir, String extraPgbouncer) throws Exception {
    return start(dir, defaultDatabases(), extraPgbouncer, USERLIST);
  }

  static String defaultDatabases() {
    return "app = host=127.0.0.1 port=${PGPORT} dbname=app\n";
  }

  static ProxyFixture start(Path dir, String databases, String extraPgbouncer, String userlist)
      throws Exception {
    Files.writeString(dir.resolve("userlist.txt"), userlist);
    Path iniFile = writeIni(dir, databases, extraPgbouncer);
    return new ProxyFixture(JBouncer.start(ConfigLoader.load(iniFile)));
  }

  /**
   * Writes {@code dir/jbouncer.ini} from the usual template (as {@link #start} does), e.g. to
   * change it before a RELOAD; returns its path.
   */
  static Path writeIni(Path dir, String databases, String extraPgbouncer) throws IOException {
    String ini =
        ("""
        [databases]
        %s
        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = 0
        auth_type = md5
        auth_file = userlist.txt
        pool_mode = transaction
        default_pool_size = 2
        ignore_startup_parameters = extra_float_digits
        worker_threads = 2
        %s
        """)
            .formatted(databases, extraPgbouncer)
            .replace("${PGPORT}", Integer.toString(TestPostgres.get().port()));
    Path iniFile = dir.resolve("jbouncer.ini");
    Files.writeString(iniFile, ini);
    return iniFile;
  }

  /** jbouncer in front of a {@link ScriptedBackend}: database {@code app}, md5 clients. */
  static ProxyFixture startScripted(Path dir, int backendPort, String extraPgbouncer)
      throws Exception {
    return startScripted(dir, "127.0.0.1", backendPort, extraPgbouncer);
  }

  /** Like {@link #startScripted(Path, int, String)}, with the server's host given by name. */
  static ProxyFixture startScripted(Path dir, String host, int backendPort, String extraPgbouncer)
      throws Exception {
    String ini =
        """
        [databases]
        app = host=%s port=%d dbname=app
        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = 0
        auth_type = md5
        auth_file = userlist.txt
        pool_mode = transaction
        default_pool_size = 1
        worker_threads = 2
        log_connections = 0
        log_disconnections = 0
        ; the scripts answer each BEGIN as it comes; deferred BEGINs are tested on PostgreSQL
        defer_begin = 0
        %s
        """
            .formatted(host, backendPort, extraPgbouncer);
    Files.writeString(dir.resolve("userlist.txt"), USERLIST);
    Path iniFile = dir.resolve("jbouncer.ini");
    Files.writeString(iniFile, ini);
    return new ProxyFixture(JBouncer.start(ConfigLoader.load(iniFile)));
  }

  int port() {
    return bouncer.localAddress().getPort();
  }

  JBouncer bouncer() {
    return bouncer;
  }

  String url(String db) {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/" + db;
  }

  /** pgjdbc through the proxy; {@code extra} are pgjdbc properties such as preferQueryMode. */
  Connection connect(String user, String password, String db, String... extra) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("sslmode", "disable");
    props.setProperty("connectTimeout", "10");
    props.setProperty("socketTimeout", "60");
    for (int i = 0; i + 1 < extra.length; i += 2) {
      props.setProperty(extra[i], extra[i + 1]);
    }
    return DriverManager.getConnection(url(db), props);
  }

  Connection connect() throws SQLException {
    return connect("scram_user", "scram_pass", "app");
  }

  @Override
  public void close() throws IOException {
    bouncer.close();
  }
}

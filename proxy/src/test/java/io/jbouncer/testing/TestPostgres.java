package io.jbouncer.testing;

import io.jbouncer.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The one real PostgreSQL of this test JVM, started on first use and stopped by a shutdown hook.
 *
 * <p>A {@code postgres:17} container when a Docker engine is reachable, else {@link
 * EmbeddedPostgres}; system property {@code jbouncer.test.postgres=embedded|docker} forces one.
 * Both carry the same roles, each with its own authentication method in pg_hba.conf, and database
 * {@code app} (owned by {@code scram_user}; all four roles may create in its {@code public}
 * schema):
 *
 * <table>
 *   <caption>Roles</caption>
 *   <tr><th>role<th>password<th>stored as<th>pg_hba method
 *   <tr><td>{@value #SCRAM_USER}<td>{@value #SCRAM_PASSWORD}<td>SCRAM<td>scram-sha-256
 *   <tr><td>{@value #MD5_USER}<td>{@value #MD5_PASSWORD}<td>MD5<td>md5
 *   <tr><td>{@value #CLEAR_USER}<td>{@value #CLEAR_PASSWORD}<td>SCRAM<td>password (clear text)
 *   <tr><td>{@value #TRUST_USER}<td>none<td>-<td>trust
 * </table>
 *
 * <p>Embedded, the rules apply to 127.0.0.1 and ::1; in a container to every address (the client
 * arrives from the Docker bridge). Tests must not change these roles; they create their own objects
 * with unique names.
 */
public final class TestPostgres {
  public static final String SCRAM_USER = "scram_user";
  public static final String SCRAM_PASSWORD = "scram_pass";
  public static final String MD5_USER = "md5_user";
  public static final String MD5_PASSWORD = "md5_pass";
  public static final String CLEAR_USER = "clear_user";
  public static final String CLEAR_PASSWORD = "clear_pass";
  public static final String TRUST_USER = "trust_user";
  public static final String APP_DB = "app";

  private static final String IMAGE = "postgres:17";
  private static final String PROPERTY = "jbouncer.test.postgres";

  /** The users whose pg_hba rule is not the final scram-sha-256 one, with their method. */
  private static final List<String[]> SPECIAL_HBA =
      List.of(
          new String[] {TRUST_USER, "trust"},
          new String[] {MD5_USER, "md5"},
          new String[] {CLEAR_USER, "password"});

  private static @Nullable TestPostgres instance;
  private static @Nullable RuntimeException failure;

  private final String kind;
  private final String host;
  private final int port;
  private final String superuserPassword;

  private TestPostgres(String kind, String host, int port, String superuserPassword) {
    this.kind = kind;
    this.host = host;
    this.port = port;
    this.superuserPassword = superuserPassword;
  }

  /** The server, started with its roles and database on the first call. */
  public static synchronized TestPostgres get() {
    if (instance != null) {
      return instance;
    }
    if (failure != null) {
      throw failure; // started once, failed: don't retry for every test class
    }
    try {
      TestPostgres pg = useDocker() ? startContainer() : startEmbedded();
      pg.createRolesAndDatabase();
      instance = pg;
      return pg;
    } catch (Exception e) {
      failure = new IllegalStateException("test PostgreSQL did not start: " + e.getMessage(), e);
      throw failure;
    }
  }

  /** {@code embedded} or {@code docker}. */
  public String kind() {
    return kind;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public String superuserPassword() {
    return superuserPassword;
  }

  /** {@code jdbc:postgresql://host:port/db}, without credentials. */
  public String jdbcUrl(String db) {
    return "jdbc:postgresql://" + host + ":" + port + "/" + db;
  }

  /** A pgjdbc connection straight to PostgreSQL (not through jbouncer). */
  public Connection connect(String user, @Nullable String password, String db) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    if (password != null) {
      props.setProperty("password", password);
    }
    props.setProperty("sslmode", "disable");
    props.setProperty("connectTimeout", "10");
    return DriverManager.getConnection(jdbcUrl(db), props);
  }

  /** A connection as superuser {@code postgres} to database {@code postgres}. */
  public Connection superuser() throws SQLException {
    return connect("postgres", superuserPassword, "postgres");
  }

  @Override
  public String toString() {
    return "TestPostgres[" + kind + " " + host + ":" + port + "]";
  }

  private static boolean useDocker() {
    String forced = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
    switch (forced) {
      case "embedded":
        return false;
      case "docker":
        if (!DockerClientFactory.instance().isDockerAvailable()) {
          throw new IllegalStateException(
              PROPERTY + "=docker but no Docker engine is reachable (see Testcontainers' log)");
        }
        return true;
      case "":
        return mayHaveDocker() && DockerClientFactory.instance().isDockerAvailable();
      default:
        throw new IllegalArgumentException(
            PROPERTY + ": " + forced + " (expected: embedded or docker)");
    }
  }

  /**
   * False when nothing points at a Docker engine, so that the common case skips Testcontainers'
   * probe (seconds, and an ERROR log). Any hint lets Testcontainers decide.
   */
  private static boolean mayHaveDocker() {
    String home = System.getProperty("user.home");
    String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
    return System.getenv("DOCKER_HOST") != null
        || Files.exists(Path.of("/var/run/docker.sock"))
        || Files.exists(Path.of(home, ".testcontainers.properties"))
        || Files.exists(Path.of(home, ".docker/run/docker.sock"))
        || runtimeDir != null && Files.exists(Path.of(runtimeDir, "docker.sock"));
  }

  private static TestPostgres startEmbedded() throws Exception {
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
    for (String[] rule : SPECIAL_HBA) {
      builder.hbaLine("host all " + rule[0] + " 127.0.0.1/32 " + rule[1]);
      builder.hbaLine("host all " + rule[0] + " ::1/128 " + rule[1]);
    }
    EmbeddedPostgres pg = builder.start();
    Runtime.getRuntime().addShutdownHook(new Thread(pg::close, "test-postgres-stop"));
    return new TestPostgres("embedded", pg.host(), pg.port(), pg.superuserPassword());
  }

  private static TestPostgres startContainer() throws SQLException {
    String password = UUID.randomUUID().toString();
    PostgreSQLContainer<?> container =
        new PostgreSQLContainer<>(DockerImageName.parse(IMAGE))
            .withUsername("postgres")
            .withPassword(password)
            .withDatabaseName("postgres");
    container.setCommand(
        "postgres",
        "-c",
        "fsync=off",
        "-c",
        "max_connections=300",
        "-c",
        "password_encryption=scram-sha-256");
    container.start();
    Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "test-postgres-stop"));
    TestPostgres pg =
        new TestPostgres("docker", container.getHost(), container.getMappedPort(5432), password);
    // the image trusts nobody by address; replace its pg_hba.conf with our rules
    StringBuilder rules = new StringBuilder("VALUES ('local all all trust')");
    for (String[] rule : SPECIAL_HBA) {
      rules.append(", ('host all ").append(rule[0]).append(" all ").append(rule[1]).append("')");
    }
    rules.append(", ('host all all all scram-sha-256')");
    try (Connection c = pg.superuser();
        Statement s = c.createStatement()) {
      String hbaFile = single(s, "SHOW hba_file");
      s.execute("COPY (" + rules + ") TO '" + hbaFile.replace("'", "''") + "'");
      single(s, "SELECT pg_reload_conf()");
    }
    return pg;
  }

  private void createRolesAndDatabase() throws SQLException {
    String everyone = String.join(", ", SCRAM_USER, MD5_USER, CLEAR_USER, TRUST_USER);
    try (Connection c = superuser();
        Statement s = c.createStatement()) {
      s.execute("CREATE ROLE " + SCRAM_USER + " LOGIN PASSWORD '" + SCRAM_PASSWORD + "'");
      s.execute("SET password_encryption = 'md5'");
      s.execute("CREATE ROLE " + MD5_USER + " LOGIN PASSWORD '" + MD5_PASSWORD + "'");
      s.execute("RESET password_encryption");
      s.execute("CREATE ROLE " + CLEAR_USER + " LOGIN PASSWORD '" + CLEAR_PASSWORD + "'");
      s.execute("CREATE ROLE " + TRUST_USER + " LOGIN");
      s.execute("CREATE DATABASE " + APP_DB + " OWNER " + SCRAM_USER);
      s.execute("GRANT ALL ON DATABASE " + APP_DB + " TO " + everyone);
    }
    try (Connection c = connect("postgres", superuserPassword, APP_DB);
        Statement s = c.createStatement()) {
      s.execute("GRANT ALL ON SCHEMA public TO " + everyone);
    }
  }

  private static String single(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}

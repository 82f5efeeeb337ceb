package io.jbouncer.auth;

import java.net.InetAddress;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One record of an {@code auth_hba_file}. Immutable.
 *
 * @param line the line number in the file, from 1
 * @param type the record type
 * @param databases the database field
 * @param users the user field
 * @param address the address field; {@code null} exactly for {@code local} records
 * @param method the authentication method
 * @param options what follows the method, in file order: {@code map} for cert and peer, the LDAP
 *     options ({@code ldapserver}, {@code ldapbasedn}…) for ldap; empty otherwise
 */
public record HbaRule(
    int line,
    Type type,
    HbaNames databases,
    HbaNames users,
    @Nullable HbaAddress address,
    HbaMethod method,
    Map<String, String> options) {

  /** The record type: which connections the rule is about. */
  public enum Type {
    LOCAL("local"),
    HOST("host"),
    HOST_SSL("hostssl"),
    HOST_NO_SSL("hostnossl");

    private final String hbaName;

    Type(String hbaName) {
      this.hbaName = hbaName;
    }

    public String hbaName() {
      return hbaName;
    }

    boolean accepts(HbaConnection.Kind kind) {
      return switch (this) {
        case LOCAL -> kind == HbaConnection.Kind.LOCAL;
        case HOST -> kind != HbaConnection.Kind.LOCAL;
        case HOST_SSL -> kind == HbaConnection.Kind.HOST_SSL;
        case HOST_NO_SSL -> kind == HbaConnection.Kind.HOST;
      };
    }
  }

  public HbaRule {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(databases, "databases");
    Objects.requireNonNull(users, "users");
    Objects.requireNonNull(method, "method");
    if ((type == Type.LOCAL) != (address == null)) {
      throw new IllegalArgumentException(
          type.hbaName()
              + " rule with address "
              + address
              + " (expected: an address only for host*)");
    }
    options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
  }

  /** Whether this rule is the one for that connection, database and user (ignoring order). */
  public boolean matches(HbaConnection connection, String database, String user) {
    if (!type.accepts(connection.kind())) {
      return false;
    }
    InetAddress client = connection.address();
    if (address != null && client != null && !address.matches(client)) {
      return false;
    }
    boolean databaseMatches =
        connection.physicalReplication()
            ? databases.replication()
            : databases.matches(database, user);
    return databaseMatches && users.matches(user, database);
  }

  /** For logs: {@code hba line 7: host all all 10.0.0.0/8 md5}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("hba line ").append(line).append(": ");
    sb.append(type.hbaName()).append(' ').append(databases).append(' ').append(users);
    if (address != null) {
      sb.append(' ').append(address);
    }
    sb.append(' ').append(method.hbaName());
    options.forEach((name, value) -> sb.append(' ').append(name).append('=').append(quoted(value)));
    return sb.toString();
  }

  private static String quoted(String value) {
    boolean plain = !value.isEmpty();
    for (int i = 0; i < value.length() && plain; i++) {
      char c = value.charAt(i);
      plain = !Character.isWhitespace(c) && c != ',' && c != '"' && c != '#';
    }
    return plain ? value : '"' + value.replace("\"", "\"\"") + '"';
  }
}

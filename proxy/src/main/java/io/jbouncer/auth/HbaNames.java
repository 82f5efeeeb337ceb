package io.jbouncer.auth;

import java.util.Set;

/**
 * The database or user field of a rule: keywords plus a set of names (lists and {@code @file}s
 * already expanded). Immutable.
 *
 * @param text the field as written, for logs ({@code @admins.txt} stays {@code @admins.txt})
 * @param all the {@code all} keyword
 * @param sameUser {@code sameuser} (database field only): the database named like the user
 * @param replication {@code replication} (database field only): physical replication connections
 * @param names the plain and quoted names
 */
public record HbaNames(
    String text, boolean all, boolean sameUser, boolean replication, Set<String> names) {

  public HbaNames {
    names = Set.copyOf(names);
  }

  /**
   * Whether {@code name} is listed, for an ordinary connection.
   *
   * @param other the user name when matching a database (for {@code sameuser})
   */
  boolean matches(String name, String other) {
    return all || (sameUser && name.equals(other)) || names.contains(name);
  }

  @Override
  public String toString() {
    return text;
  }
}

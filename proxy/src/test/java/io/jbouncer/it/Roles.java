package io.jbouncer.it;

import io.jbouncer.testing.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** Extra PostgreSQL roles some tests need, created once per test JVM. */
final class Roles {
  private Roles() {}

  /** A LOGIN role with a SCRAM password and rights on database app; idempotent. */
  static synchronized void ensure(String name, String password) throws SQLException {
    try (Connection c = TestPostgres.get().superuser();
        Statement st = c.createStatement()) {
      st.execute(
          """
          do $$ begin
            if not exists (select from pg_roles where rolname = '%1$s') then
              create role %1$s login password '%2$s';
            end if;
          end $$"""
              .formatted(name, password));
      st.execute("grant all on database app to " + name);
    }
    try (Connection c =
            TestPostgres.get().connect("postgres", TestPostgres.get().superuserPassword(), "app");
        Statement st = c.createStatement()) {
      st.execute("grant all on schema public to " + name);
    }
  }
}

package io.jbouncer.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AdminCommandTest {

  private static AdminCommand parse(String query) throws AdminCommand.SyntaxError {
    return AdminCommand.parse(query);
  }

  @Test
  void commandWithAndWithoutArgument() throws Exception {
    assertThat(parse("SHOW POOLS")).isEqualTo(new AdminCommand("show", "POOLS", null));
    assertThat(parse("  show\tpools ;  ")).isEqualTo(new AdminCommand("show", "pools", null));
    assertThat(parse("RELOAD;")).isEqualTo(new AdminCommand("reload", "", null));
    assertThat(parse("pause app")).isEqualTo(new AdminCommand("pause", "app", null));
  }

  @Test
  void databaseNamesKeepTheirCaseAndMayBeQuoted() throws Exception {
    assertThat(parse("PAUSE MyDb")).isEqualTo(new AdminCommand("pause", "MyDb", null));
    assertThat(parse("pause \"odd-name \"\"x\"\"\""))
        .isEqualTo(new AdminCommand("pause", "odd-name \"x\"", null));
  }

  @Test
  void setWithEqualsOrToAndAWordOrAString() throws Exception {
    assertThat(parse("SET default_pool_size = 30"))
        .isEqualTo(new AdminCommand("set", "default_pool_size", "30"));
    assertThat(parse("set pool_mode to session;"))
        .isEqualTo(new AdminCommand("set", "pool_mode", "session"));
    assertThat(parse("SET server_reset_query = 'DISCARD ALL; SELECT ''x'''"))
        .isEqualTo(new AdminCommand("set", "server_reset_query", "DISCARD ALL; SELECT 'x'"));
  }

  @Test
  void anythingElseIsAnInvalidCommand() {
    // "SHOW" alone and "SELECT 1" do parse; the console refuses them as it runs them
    for (String query : new String[] {"", "show pools; show stats", "a b c", "set x ="}) {
      assertThatThrownBy(() -> parse(query))
          .isInstanceOf(AdminCommand.SyntaxError.class)
          .hasMessage("invalid command '" + query + "', use SHOW HELP;");
    }
  }

  @Test
  void overlongPartsAreBadArguments() {
    assertThatThrownBy(() -> parse("a".repeat(16)))
        .isInstanceOf(AdminCommand.SyntaxError.class)
        .hasMessage("bad arguments");
    assertThatThrownBy(() -> parse("pause " + "d".repeat(64))).hasMessage("bad arguments");
    assertThatThrownBy(() -> parse("set x = '" + "v".repeat(256) + "'"))
        .hasMessage("bad arguments");
    assertThatThrownBy(() -> parse("set \"\" = 1")).isInstanceOf(AdminCommand.SyntaxError.class);
  }
}

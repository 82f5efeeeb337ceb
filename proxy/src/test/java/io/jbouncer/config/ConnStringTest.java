package io.jbouncer.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConnStringTest {
  private static Map<String, String> parse(String s) {
    return ConnString.parse(s, "x");
  }

  @Test
  void plainPairs() {
    assertThat(parse("host=localhost port=5432 dbname=app"))
        .containsExactly(
            Map.entry("host", "localhost"), Map.entry("port", "5432"), Map.entry("dbname", "app"));
  }

  @Test
  void emptyStringHasNoPairs() {
    assertThat(parse("")).isEmpty();
    assertThat(parse("   ")).isEmpty();
  }

  @Test
  void blanksAroundEqualsAndBetweenPairs() {
    assertThat(parse("  host = a \t port= 1  user =b  "))
        .containsExactly(Map.entry("host", "a"), Map.entry("port", "1"), Map.entry("user", "b"));
  }

  @Test
  void quotedValues() {
    assertThat(parse("password='a b' q='it''s' e='''' x='=y='"))
        .containsExactly(
            Map.entry("password", "a b"),
            Map.entry("q", "it's"),
            Map.entry("e", "'"),
            Map.entry("x", "=y="));
  }

  @Test
  void noBackslashEscapesAsInPgbouncer() {
    assertThat(parse("password=a\\b q='c\\d'"))
        .containsExactly(Map.entry("password", "a\\b"), Map.entry("q", "c\\d"));
  }

  @Test
  void unquotedValueMayContainQuotesAndEquals() {
    assertThat(parse("password=ab'c=d")).containsExactly(Map.entry("password", "ab'c=d"));
  }

  @Test
  void lastOfARepeatedKeyWins() {
    assertThat(parse("host=a host=b")).containsExactly(Map.entry("host", "b"));
  }

  @Test
  void errors() {
    assertThatThrownBy(() -> parse("host")).hasMessage("x: expected key=value at \"host\"");
    assertThatThrownBy(() -> parse("host=a port")).hasMessage("x: expected key=value at \"port\"");
    assertThatThrownBy(() -> parse("=a")).hasMessage("x: expected key=value at \"=a\"");
    assertThatThrownBy(() -> parse("host=")).hasMessage("x: empty value for host");
    assertThatThrownBy(() -> parse("host='' port=1")).hasMessage("x: empty value for host");
    assertThatThrownBy(() -> parse("password='abc"))
        .hasMessage("x: unterminated quoted value for password");
    assertThatThrownBy(() -> parse("password='a'b"))
        .hasMessage("x: expected a space after the quoted value of password");
  }
}

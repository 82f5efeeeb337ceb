package io.jbouncer.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrackedParametersTest {
  @Test
  void canonicalNamesAreCaseInsensitive() {
    assertThat(TrackedParameters.canonical("datestyle", List.of())).isEqualTo("DateStyle");
    assertThat(TrackedParameters.canonical("TIMEZONE", List.of())).isEqualTo("TimeZone");
    assertThat(TrackedParameters.canonical("search_path", List.of())).isNull();
  }

  @Test
  void trackExtraParametersAddsToTheFiveAlwaysTracked() {
    assertThat(TrackedParameters.canonical("intervalstyle", List.of())).isNull();
    assertThat(TrackedParameters.canonical("intervalstyle", List.of("IntervalStyle")))
        .isEqualTo("IntervalStyle");
    // PostgreSQL's own spelling, whatever the configuration's
    assertThat(TrackedParameters.canonical("IntervalStyle", List.of("intervalstyle")))
        .isEqualTo("IntervalStyle");
    assertThat(TrackedParameters.canonical("SEARCH_PATH", List.of("search_path")))
        .isEqualTo("search_path");
    assertThat(TrackedParameters.alwaysTracked("Application_Name")).isTrue();
    assertThat(TrackedParameters.alwaysTracked("IntervalStyle")).isFalse();
  }

  @Test
  void syncStatementSetsOnlyWhatDiffersWithSetConfigAndEscapeLiterals() {
    Map<String, String> wanted = new LinkedHashMap<>();
    wanted.put("application_name", "it's a \\ mine");
    wanted.put("DateStyle", "ISO, MDY");
    wanted.put("TimeZone", "UTC");
    assertThat(
            TrackedParameters.syncStatement(
                wanted, Map.of("DateStyle", "ISO, MDY", "application_name", "", "TimeZone", "GMT")))
        .isEqualTo(
            "SELECT pg_catalog.set_config(E'application_name', E'it''s a \\\\ mine', false),"
                + " pg_catalog.set_config(E'TimeZone', E'UTC', false);");
    assertThat(TrackedParameters.syncStatement(wanted, Map.copyOf(wanted))).isEmpty();
  }
}

package io.jbouncer.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrackedParametersTest {
  @Test
  void canonicalNamesAreCaseInsensitive() {
    assertThat(TrackedParameters.canonical("datestyle")).isEqualTo("DateStyle");
    assertThat(TrackedParameters.canonical("TIMEZONE")).isEqualTo("TimeZone");
    assertThat(TrackedParameters.canonical("search_path")).isNull();
  }

  @Test
  void syncStatementSetsOnlyWhatDiffersAndQuotesValues() {
    Map<String, String> wanted = new LinkedHashMap<>();
    wanted.put("application_name", "it's mine");
    wanted.put("DateStyle", "ISO, MDY");
    assertThat(
            TrackedParameters.syncStatement(
                wanted, Map.of("DateStyle", "ISO, MDY", "application_name", "")))
        .isEqualTo("SET application_name='it''s mine';");
    assertThat(TrackedParameters.syncStatement(wanted, Map.copyOf(wanted))).isEmpty();
  }
}

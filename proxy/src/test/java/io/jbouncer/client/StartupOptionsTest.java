package io.jbouncer.client;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StartupOptionsTest {
  @Test
  void parsesDashCAndDoubleDashForms() {
    assertThat(StartupOptions.parse("-c DateStyle=ISO  -cTimeZone=UTC --application-name=x"))
        .containsExactly(
            java.util.Map.entry("DateStyle", "ISO"),
            java.util.Map.entry("TimeZone", "UTC"),
            java.util.Map.entry("application_name", "x"));
  }

  @Test
  void backslashEscapesSpaces() {
    assertThat(StartupOptions.parse("-c DateStyle=ISO,\\ MDY"))
        .containsEntry("DateStyle", "ISO, MDY");
  }

  @Test
  void wordsThatAreNotSettingsAreReturnedForRejection() {
    assertThat(StartupOptions.parse("-x")).containsKey("-x");
  }
}

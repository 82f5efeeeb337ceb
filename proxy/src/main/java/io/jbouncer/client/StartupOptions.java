package io.jbouncer.client;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parses the {@code options} startup parameter as PgBouncer does: {@code -c key=value} and {@code
 * --key=value} pairs separated by spaces, with backslash escaping the next character.
 */
final class StartupOptions {
  private StartupOptions() {}

  static Map<String, String> parse(String options) {
    Map<String, String> result = new LinkedHashMap<>();
    String[] words = splitWords(options);
    for (int i = 0; i < words.length; i++) {
      String word = words[i];
      String setting;
      if (word.equals("-c") && i + 1 < words.length) {
        setting = words[++i];
      } else if (word.startsWith("-c") && word.length() > 2) {
        setting = word.substring(2);
      } else if (word.startsWith("--")) {
        setting = word.substring(2);
      } else {
        result.put(word, ""); // not a setting: reported as unsupported by the caller
        continue;
      }
      int eq = setting.indexOf('=');
      if (eq <= 0) {
        result.put(setting, "");
      } else {
        result.put(setting.substring(0, eq).replace('-', '_'), setting.substring(eq + 1));
      }
    }
    return result;
  }

  private static String[] splitWords(String s) {
    java.util.List<String> words = new java.util.ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean escaped = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (escaped) {
        word.append(c);
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (Character.isWhitespace(c)) {
        if (word.length() > 0) {
          words.add(word.toString());
          word.setLength(0);
        }
      } else {
        word.append(c);
      }
    }
    if (word.length() > 0) {
      words.add(word.toString());
    }
    return words.toArray(new String[0]);
  }
}

package io.jbouncer.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.config.ConfigError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserListTest {
  private static final String SCRAM =
      "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0$"
          + "9L0NzJ4h4VSLmkxS8JHQDhnpGeQ8ZaCQJrgNWaxZmSc=:"
          + "qrXplo8L1fM6ayk/q0jK+7K/yW6JJ1Ev9+tJZ5XRg1c=";

  @TempDir Path dir;

  private Path write(String text) throws IOException {
    return Files.writeString(dir.resolve("userlist.txt"), text);
  }

  private UserList load(String text) throws IOException {
    return UserList.load(write(text));
  }

  private void assertError(String text, String message) throws IOException {
    Path file = write(text);
    assertThatThrownBy(() -> UserList.load(file))
        .isInstanceOf(ConfigError.class)
        .hasMessage(message.replace("@", file.toString()));
  }

  @Test
  void plainMd5AndScramSecrets() throws IOException {
    UserList users =
        load(
            """
            "alice" "wonderland"
            "bob" "md545f2603610af569b6155c45067268c6b"
            "carol" "%s"
            """
                .formatted(SCRAM));
    assertThat(users.size()).isEqualTo(3);
    assertThat(users.users()).containsExactly("alice", "bob", "carol");
    assertThat(users.secret("alice")).isEqualTo("wonderland");
    assertThat(users.secret("bob")).isEqualTo("md545f2603610af569b6155c45067268c6b");
    assertThat(users.secret("carol")).isEqualTo(SCRAM);
    assertThat(users.secret("dave")).isNull();
  }

  @Test
  void commentsBlankLinesAndTrailingFields() throws IOException {
    UserList users =
        load(
            """
            ; a comment
               ;  an indented comment

            \t"alice"\t"pw"  trailing "fields" are ignored
            "bob" "pw2";also ignored\r
            """);
    assertThat(users.users()).containsExactly("alice", "bob");
    assertThat(users.secret("alice")).isEqualTo("pw");
    assertThat(users.secret("bob")).isEqualTo("pw2");
  }

  @Test
  void doubledQuotesEscapeAQuote() throws IOException {
    UserList users = load("\"say \"\"hi\"\"\" \"pa\"\"ss\"\n\"\" \"\"\n\"q\" \"\"\"\"\n");
    assertThat(users.secret("say \"hi\"")).isEqualTo("pa\"ss");
    assertThat(users.secret("")).isEmpty();
    assertThat(users.secret("q")).isEqualTo("\"");
  }

  @Test
  void aUserListedTwiceKeepsTheLastSecret() throws IOException {
    UserList users = load("\"a\" \"1\"\n\"b\" \"2\"\n\"a\" \"3\"\n");
    assertThat(users.users()).containsExactly("a", "b");
    assertThat(users.secret("a")).isEqualTo("3");
  }

  @Test
  void emptyFileAndEmptyList() throws IOException {
    assertThat(load("").size()).isZero();
    assertThat(UserList.empty().size()).isZero();
    assertThat(UserList.empty().secret("x")).isNull();
    assertThat(UserList.empty().users()).isEmpty();
  }

  @Test
  void usersAreReadOnlyAndToStringHidesSecrets() throws IOException {
    UserList users = load("\"alice\" \"wonderland\"\n");
    assertThatThrownBy(() -> users.users().add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(users.toString()).isEqualTo("UserList[alice]").doesNotContain("wonderland");
  }

  @Test
  void longestAllowedNameAndPassword() throws IOException {
    String name = "n".repeat(127);
    String password = "p".repeat(65530);
    UserList users = load("\"" + name + "\" \"" + password + "\"\n");
    assertThat(users.secret(name)).isEqualTo(password);
  }

  @Test
  void malformedLines() throws IOException {
    assertError(
        "\"ok\" \"1\"\nalice \"pw\"\n",
        "@:2: broken auth file: expected a double-quoted user name (comments start with ';')");
    assertError(
        "# hash is not a comment in PgBouncer's auth_file\n",
        "@:1: broken auth file: expected a double-quoted user name (comments start with ';')");
    assertError("\"alice\n", "@:1: broken auth file: missing closing quote of the user name");
    assertError(
        "\"alice\"\n\"pw\"\n",
        "@:1: broken auth file: expected a double-quoted password (comments start with ';')");
    assertError(
        "\"alice\" pw\n",
        "@:1: broken auth file: expected a double-quoted password (comments start with ';')");
    assertError("\"alice\" \"pw\n", "@:1: broken auth file: missing closing quote of the password");
  }

  @Test
  void tooLong() throws IOException {
    assertError(
        "\"" + "n".repeat(128) + "\" \"pw\"\n",
        "@:1: broken auth file: user name too long: 128 bytes (expected: at most 127)");
    assertError(
        "\"u\" \"" + "p".repeat(65531) + "\"\n",
        "@:1: broken auth file: password too long: 65531 bytes (expected: at most 65530)");
    // bytes, not characters: 64 two-byte characters
    assertError(
        "\"" + "é".repeat(64) + "\" \"pw\"\n",
        "@:1: broken auth file: user name too long: 128 bytes (expected: at most 127)");
  }

  @Test
  void missingFile() {
    Path nope = dir.resolve("nope.txt");
    assertThatThrownBy(() -> UserList.load(nope))
        .isInstanceOf(ConfigError.class)
        .hasMessage("could not open auth_file " + nope + ": No such file");
  }
}

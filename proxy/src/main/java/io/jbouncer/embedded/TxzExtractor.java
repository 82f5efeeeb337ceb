package io.jbouncer.embedded;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Unpacks a {@code .txz} (xz-compressed tar). The only class that links against commons-compress
 * and xz, which are on the class path only for the demo and the tests: callers check {@link
 * #CLASSES} first, so a missing jar gives a clear message instead of a {@link
 * NoClassDefFoundError}.
 */
final class TxzExtractor {
  /**
   * Classes this extractor needs, by name, so callers can check them without loading this class.
   */
  static final String[] CLASSES = {
    "org.apache.commons.compress.archivers.tar.TarArchiveInputStream",
    "org.tukaani.xz.XZInputStream"
  };

  private static final Set<PosixFilePermission> DIRECTORY_MODE =
      PosixFilePermissions.fromString("rwxr-xr-x");

  private TxzExtractor() {}

  /**
   * Extracts {@code archive} into the existing directory {@code target}. Files keep their execute
   * bits and become readable by everyone (an unprivileged user runs the binaries when we are root);
   * symbolic links must stay inside {@code target}; other entry types are refused.
   */
  static void extract(InputStream archive, Path target) throws IOException {
    Path root = target.toAbsolutePath().normalize();
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(new XZInputStream(new BufferedInputStream(archive, 1 << 16)))) {
      for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
        Path path = inside(root, root.resolve(entry.getName()), entry.getName());
        if (entry.isDirectory()) {
          Files.createDirectories(path);
        } else if (entry.isSymbolicLink()) {
          Path link = Path.of(entry.getLinkName());
          inside(root, path.getParent().resolve(link), entry.getName() + " -> " + link);
          Files.createDirectories(path.getParent());
          Files.createSymbolicLink(path, link);
        } else if (entry.isFile()) {
          Files.createDirectories(path.getParent());
          Files.copy(tar, path);
          Files.setPosixFilePermissions(path, fileMode(entry.getMode()));
        } else {
          throw new IOException(
              "unsupported entry in PostgreSQL archive: "
                  + entry.getName()
                  + " (expected: file, directory or symbolic link)");
        }
      }
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          Files.setPosixFilePermissions(p, DIRECTORY_MODE);
        }
      }
    }
  }

  private static Path inside(Path root, Path path, String what) throws IOException {
    Path normalized = path.normalize();
    if (!normalized.startsWith(root)) {
      throw new IOException("PostgreSQL archive entry points outside its directory: " + what);
    }
    return normalized;
  }

  /** The tar mode without group/other write, plus read for everyone. */
  private static Set<PosixFilePermission> fileMode(int mode) {
    int m = (mode & 0755) | 0644;
    Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE
    for (int i = 0; i < bits.length; i++) {
      if ((m & (0400 >> i)) != 0) {
        perms.add(bits[i]);
      }
    }
    return perms;
  }
}

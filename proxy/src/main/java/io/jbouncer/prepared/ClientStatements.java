package io.jbouncer.prepared;

import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The statements one client has prepared, by the names it gave them. Confined to the client's event
 * loop; the count is readable from anywhere (SHOW CLIENTS).
 */
public final class ClientStatements {
  private final Map<String, PreparedStatement> byName = new HashMap<>();
  private volatile int count;

  public @Nullable PreparedStatement get(String name) {
    return byName.get(name);
  }

  void put(String name, PreparedStatement statement) {
    byName.put(name, statement);
    count = byName.size();
  }

  @Nullable PreparedStatement remove(String name) {
    PreparedStatement removed = byName.remove(name);
    count = byName.size();
    return removed;
  }

  /** Removes {@code name} only if it still names {@code statement}. */
  void remove(String name, PreparedStatement statement) {
    byName.remove(name, statement);
    count = byName.size();
  }

  /** DEALLOCATE ALL, DISCARD ALL. */
  public void clear() {
    byName.clear();
    count = 0;
  }

  public int count() {
    return count;
  }
}

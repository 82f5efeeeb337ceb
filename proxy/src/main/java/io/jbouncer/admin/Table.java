package io.jbouncer.admin;

import io.jbouncer.protocol.backend.DataRow;
import io.jbouncer.protocol.backend.RowDescription;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A result of a SHOW command: typed columns and rows of values, all sent as text as PgBouncer sends
 * them.
 *
 * <p>Columns are declared as {@code "name:t"} with PgBouncer's type letters: {@code s} text, {@code
 * i} int4, {@code q} int8, {@code N} numeric, {@code b} bytea, {@code T} a timestamp sent as text.
 */
final class Table {
  private final List<RowDescription.Field> fields = new ArrayList<>();
  private final List<DataRow> rows = new ArrayList<>();

  /** A table with columns {@code "name:t"}, e.g. {@code Table.of("database:s", "port:i")}. */
  static Table of(String... columns) {
    Table table = new Table();
    for (String column : columns) {
      int colon = column.lastIndexOf(':');
      if (colon <= 0 || colon != column.length() - 2) {
        throw new IllegalArgumentException("column: " + column + " (expected: name:letter)");
      }
      table.fields.add(field(column.substring(0, colon), column.charAt(colon + 1)));
    }
    return table;
  }

  private static RowDescription.Field field(String name, char type) {
    return switch (type) {
      case 's', 'T' -> RowDescription.Field.text(name);
      case 'i' -> new RowDescription.Field(name, 23, 4);
      case 'q' -> new RowDescription.Field(name, 20, 8);
      case 'N' -> new RowDescription.Field(name, 1700, -1);
      case 'b' -> new RowDescription.Field(name, 17, -1);
      default -> throw new IllegalArgumentException("column type: " + type);
    };
  }

  /** Adds a row; each value is printed as text, {@code null} is SQL NULL. */
  Table row(@Nullable Object... values) {
    if (values.length != fields.size()) {
      throw new IllegalArgumentException(
          "row of " + values.length + " values (expected: " + fields.size() + ")");
    }
    List<@Nullable String> texts = new ArrayList<>(values.length);
    for (Object value : values) {
      texts.add(value == null ? null : value.toString());
    }
    rows.add(DataRow.ofText(texts));
    return this;
  }

  RowDescription description() {
    return new RowDescription(fields);
  }

  List<DataRow> rows() {
    return rows;
  }

  List<String> columnNames() {
    return fields.stream().map(RowDescription.Field::name).toList();
  }
}

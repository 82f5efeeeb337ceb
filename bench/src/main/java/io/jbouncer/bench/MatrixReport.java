package io.jbouncer.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Turns the runs of {@code bench/pgbench-matrix.sh} into its report: the median of each cell and
 * target over the rounds ({@code summary.csv}), a Markdown table with jbouncer's ratios to
 * PgBouncer and to direct PostgreSQL ({@code summary.md}), and charts, a group of bars per cell and
 * one bar per target ({@code tps.png}, {@code p99.png}).
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar io.jbouncer.bench.MatrixReport RUNS.csv
 * OUT_DIR}. RUNS.csv has a header row naming at least {@code cell}, {@code target}, {@code tps},
 * {@code lat_avg_ms}, {@code p50_ms}, {@code p99_ms}, {@code cpu_us_per_txn}, {@code failed} and
 * {@code error}, one row per run.
 */
public final class MatrixReport {
  private static final List<String> MEASURES =
      List.of("tps", "lat_avg_ms", "p50_ms", "p99_ms", "cpu_us_per_txn");

  private MatrixReport() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: MatrixReport RUNS.csv OUT_DIR");
      System.exit(2);
    }
    System.setProperty("java.awt.headless", "true");
    List<Map<String, String>> runs = read(Path.of(args[0]));
    Path out = Path.of(args[1]);
    Files.createDirectories(out);
    List<Map<String, String>> summary = summarize(runs);
    writeCsv(summary, out.resolve("summary.csv"));
    StringBuilder md = new StringBuilder(markdown(summary));
    Path dir = Path.of(args[0]).toAbsolutePath().getParent();
    appendTable(md, dir.resolve("scale.csv"), "Idle clients held while a 50-client pgbench runs");
    appendTable(md, dir.resolve("odoo.csv"), "Odoo-shaped workload (bench/odoo_workload.py)");
    Files.writeString(out.resolve("summary.md"), md, StandardCharsets.UTF_8);
    draw(summary, "tps", "Transactions per second (higher is better)", out.resolve("tps.png"));
    draw(summary, "p99_ms", "p99 latency in ms (lower is better)", out.resolve("p99.png"));
    System.out.println(Files.readString(out.resolve("summary.md")));
  }

  static List<Map<String, String>> read(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    String[] header = lines.get(0).split(",", -1);
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) {
        continue;
      }
      String[] values = line.split(",", -1);
      Map<String, String> row = new LinkedHashMap<>();
      for (int i = 0; i < header.length; i++) {
        row.put(header[i], i < values.length ? values[i] : "");
      }
      rows.add(row);
    }
    return rows;
  }

  /** The median of each measure per (cell, target), over the runs that did not fail. */
  static List<Map<String, String>> summarize(List<Map<String, String>> runs) {
    Map<String, List<Map<String, String>>> groups = new LinkedHashMap<>();
    for (Map<String, String> run : runs) {
      groups
          .computeIfAbsent(run.get("cell") + "\0" + run.get("target"), k -> new ArrayList<>())
          .add(run);
    }
    List<Map<String, String>> summary = new ArrayList<>();
    for (List<Map<String, String>> group : groups.values()) {
      Map<String, String> row = new LinkedHashMap<>();
      row.put("cell", group.get(0).get("cell"));
      row.put("target", group.get(0).get("target"));
      row.put("clients", group.get(0).getOrDefault("clients", ""));
      List<Map<String, String>> ok =
          group.stream().filter(r -> r.getOrDefault("error", "").isEmpty()).toList();
      for (String measure : MEASURES) {
        List<Double> values = new ArrayList<>();
        for (Map<String, String> r : ok) {
          String v = r.getOrDefault(measure, "");
          if (!v.isEmpty()) {
            values.add(Double.parseDouble(v));
          }
        }
        row.put(measure, values.isEmpty() ? "" : format(median(values)));
      }
      row.put("runs", ok.size() + "/" + group.size());
      row.put(
          "error",
          group.stream()
              .map(r -> r.getOrDefault("error", ""))
              .filter(e -> !e.isEmpty())
              .findFirst()
              .orElse(""));
      summary.add(row);
    }
    return summary;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String format(double v) {
    return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.3f", v);
  }

  private static void writeCsv(List<Map<String, String>> rows, Path file) throws IOException {
    StringBuilder csv = new StringBuilder(String.join(",", rows.get(0).keySet())).append('\n');
    for (Map<String, String> row : rows) {
      csv.append(String.join(",", row.values())).append('\n');
    }
    Files.writeString(file, csv, StandardCharsets.UTF_8);
  }

  /** One row per cell: each target's TPS and p99, and jbouncer's TPS ratios. */
  static String markdown(List<Map<String, String>> summary) {
    Set<String> cells = new LinkedHashSet<>();
    Set<String> targets = new LinkedHashSet<>();
    for (Map<String, String> row : summary) {
      cells.add(row.get("cell"));
      targets.add(row.get("target"));
    }
    StringBuilder md = new StringBuilder("| cell |");
    StringBuilder line = new StringBuilder("|---|");
    for (String target : targets) {
      md.append(" ").append(target).append(" TPS | ").append(target).append(" p99 ms |");
      line.append("---:|---:|");
    }
    md.append(
        " jbouncer / PgBouncer | jbouncer / direct | CPU µs/txn PgBouncer | CPU µs/txn jbouncer |\n");
    line.append("---:|---:|---:|---:|\n");
    md.append(line);
    for (String cell : cells) {
      md.append("| ").append(cell).append(" |");
      for (String target : targets) {
        Map<String, String> row = find(summary, cell, target);
        md.append(" ").append(shown(row, "tps")).append(" | ").append(shown(row, "p99_ms"));
        md.append(" |");
      }
      md.append(" ").append(ratio(summary, cell, "jbouncer", "pgbouncer"));
      md.append(" | ").append(ratio(summary, cell, "jbouncer", "direct"));
      md.append(" | ").append(shown(find(summary, cell, "pgbouncer"), "cpu_us_per_txn"));
      md.append(" | ").append(shown(find(summary, cell, "jbouncer"), "cpu_us_per_txn"));
      md.append(" |\n");
    }
    return md.toString();
  }

  /** The other stages' CSV files, as they are, each under a title; nothing when absent. */
  private static void appendTable(StringBuilder md, Path csv, String title) throws IOException {
    if (!Files.exists(csv)) {
      return;
    }
    List<Map<String, String>> rows = read(csv);
    if (rows.isEmpty()) {
      return;
    }
    md.append("\n").append(title).append(":\n\n|");
    StringBuilder line = new StringBuilder("|");
    for (String column : rows.get(0).keySet()) {
      md.append(' ').append(column).append(" |");
      line.append("---|");
    }
    md.append('\n').append(line).append('\n');
    for (Map<String, String> row : rows) {
      md.append('|');
      row.values().forEach(v -> md.append(' ').append(v).append(" |"));
      md.append('\n');
    }
  }

  private static Map<String, String> find(
      List<Map<String, String>> summary, String cell, String target) {
    for (Map<String, String> row : summary) {
      if (cell.equals(row.get("cell")) && target.equals(row.get("target"))) {
        return row;
      }
    }
    return Map.of();
  }

  private static String shown(Map<String, String> row, String measure) {
    String v = row.getOrDefault(measure, "");
    if (!v.isEmpty()) {
      return v;
    }
    String error = row.getOrDefault("error", "");
    return error.isEmpty() ? "–" : "failed";
  }

  private static String ratio(List<Map<String, String>> summary, String cell, String a, String b) {
    String x = find(summary, cell, a).getOrDefault("tps", "");
    String y = find(summary, cell, b).getOrDefault("tps", "");
    if (x.isEmpty() || y.isEmpty() || Double.parseDouble(y) == 0) {
      return "–";
    }
    return String.format(Locale.ROOT, "%.2f", Double.parseDouble(x) / Double.parseDouble(y));
  }

  private static void draw(
      List<Map<String, String>> summary, String measure, String title, Path png)
      throws IOException {
    Set<String> cells = new LinkedHashSet<>();
    Set<String> targets = new LinkedHashSet<>();
    for (Map<String, String> row : summary) {
      cells.add(row.get("cell"));
      targets.add(row.get("target"));
    }
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(1400)
            .height(600)
            .title(title)
            .xAxisTitle("pgbench cell")
            .yAxisTitle(measure)
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setXAxisLabelRotation(30);
    for (String target : targets) {
      List<String> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      for (String cell : cells) {
        x.add(cell);
        String v = find(summary, cell, target).getOrDefault(measure, "");
        y.add(v.isEmpty() ? 0 : Double.parseDouble(v));
      }
      chart.addSeries(target, x, y);
    }
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}

#!/usr/bin/env bash
# pgbench side by side: direct PostgreSQL, PgBouncer (when installed) and jbouncer, one after the
# other in every cell and every round, so that drift hits all of them alike.
#
#   bench/pgbench-matrix.sh [-d SECONDS] [-r ROUNDS] [-c "CELLS"] [-n IDLE_CLIENTS]
#                           [-O ODOO_SECONDS] [-o OUT_DIR]
#
# Starts a private PostgreSQL (the newest /usr/lib/postgresql/*/bin, or pg_ctl on PATH), loads
# pgbench's tables at scale 10, and runs both poolers from the same pgbouncer.ini: transaction
# mode, default_pool_size 20, SCRAM for clients and for servers (a second database, bench_trust,
# has trust for clients, for the connection-storm cell without the client's own SCRAM work).
# Cells (default all):
#   S1 S10 S50 S200 S1000  select-only (-S), simple protocol, at that many clients
#   TPCB50                 pgbench's TPC-B-like script at 50 clients
#   C50 C50trust           -S -C: a new connection per transaction, 50 clients (SCRAM / trust)
#   X50 P50                -S -M extended / -M prepared at 50 clients
# Each run records TPS, failed transactions, average latency, p50 and p99 (from pgbench's
# per-transaction log), and the pooler's CPU per transaction (from /proc/PID/stat). Then each
# pooler holds IDLE_CLIENTS (default 10000, 0 skips) idle logged-in clients while a 50-client
# pgbench runs: its RSS and (jbouncer) live heap per idle client go to scale.csv. Last, the
# Odoo-shaped workload (bench/odoo_workload.py, psycopg2) runs ODOO_SECONDS (default 10, 0 skips)
# against each target, once as is and once with --dbfilter (a fresh SCRAM connection per request):
# odoo.csv. Database odoo is pooled in transaction mode; database postgres, which carries Odoo's
# LISTEN, in session mode as PgBouncer needs it. Output in OUT_DIR (default
# bench/results/<time>): runs.csv, scale.csv, odoo.csv, summary.csv, summary.md, tps.png, p99.png.
# Defaults (-d 8, -r 2, -O 10) take about 13 minutes on two cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration=8
rounds=2
cells="S1 S10 S50 S200 S1000 TPCB50 C50 C50trust X50 P50"
scale_clients=10000
odoo_duration=10
out="$root/bench/results/$(date +%Y%m%d-%H%M%S)"
while getopts "d:r:c:o:n:O:" opt; do
  case $opt in
    d) duration=$OPTARG ;;
    r) rounds=$OPTARG ;;
    c) cells=$OPTARG ;;
    o) out=$OPTARG ;;
    n) scale_clients=$OPTARG ;;
    O) odoo_duration=$OPTARG ;;
    *) sed -n '2,28p' "$0" >&2; exit 2 ;;
  esac
done
pool=20

jar="$root/proxy/target/jbouncer.jar"
report_jar="$root/bench/target/benchmarks.jar"
if [[ ! -f $jar || ! -f $report_jar ]]; then
  (cd "$root" && mvn -B -q -DskipTests install)
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -n $bindir ]] || bindir=$(dirname "$(command -v pg_ctl)")
pgbouncer=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)

mkdir -p "$out"
work=$(mktemp -d /tmp/jbouncer-matrix.XXXXXX)
chmod 755 "$work"
as_pg=()
run_as=$(id -un)
if [[ $(id -u) -eq 0 ]]; then # PostgreSQL and PgBouncer refuse root
  run_as=postgres
  id postgres >/dev/null 2>&1 || run_as=nobody
  chown "$run_as" "$work"
  as_pg=(runuser -u "$run_as" --)
fi
free_ports() { # three free consecutive ports below the ephemeral range (32768-60999)
  local base
  while true; do
    base=$((20000 + RANDOM % 12000))
    ss -Htan "( sport >= :$base and sport <= :$((base + 2)) )" 2>/dev/null | grep -q . || break
  done
  echo "$base"
}
pg_port=$(free_ports)
pgb_port=$((pg_port + 1))
jb_port=$((pg_port + 2))
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "${as_pg[@]}" "$bindir/pg_ctl" stop -D "$work/data" -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> PostgreSQL from $bindir on port $pg_port; results in $out"
echo bench_pass >"$work/pwfile"
chmod 644 "$work/pwfile"
"${as_pg[@]}" "$bindir/initdb" -D "$work/data" -U bench --pwfile="$work/pwfile" \
  --auth=scram-sha-256 --no-sync -E UTF8 --locale=C >/dev/null
echo "host bench bench_trust 127.0.0.1/32 trust" >>"$work/data/pg_hba.conf.new"
cat "$work/data/pg_hba.conf" >>"$work/data/pg_hba.conf.new"
mv "$work/data/pg_hba.conf.new" "$work/data/pg_hba.conf"
[[ $run_as != "$(id -un)" ]] && chown "$run_as" "$work/data/pg_hba.conf"
"${as_pg[@]}" "$bindir/pg_ctl" start -D "$work/data" -l "$work/postgres.log" -w -o \
  "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=1100 -c fsync=off -c synchronous_commit=off -c shared_buffers=256MB" >/dev/null || { cat "$work/postgres.log" >&2; exit 1; }
export PGPASSWORD=bench_pass
psql -X -q -h 127.0.0.1 -p "$pg_port" -U bench -d postgres \
  -c "create database bench" -c "create database odoo" -c "create role bench_trust login"
pgbench -h 127.0.0.1 -p "$pg_port" -U bench -i -s 10 -q bench >/dev/null 2>&1
psql -X -q -h 127.0.0.1 -p "$pg_port" -U bench -d bench -c "grant select on all tables in schema public to bench_trust"

# one configuration for both poolers
cat >"$work/userlist.txt" <<EOF
"bench" "bench_pass"
"bench_trust" "unused"
EOF
cat >"$work/hba.conf" <<EOF
host bench_trust all 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
EOF
pooler_ini() { # PORT NAME
  cat <<EOF
[databases]
bench = host=127.0.0.1 port=$pg_port dbname=bench
bench_trust = host=127.0.0.1 port=$pg_port dbname=bench user=bench password=bench_pass
odoo = host=127.0.0.1 port=$pg_port dbname=odoo
postgres = host=127.0.0.1 port=$pg_port dbname=postgres pool_mode=session
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $1
unix_socket_dir =
auth_type = hba
auth_hba_file = $work/hba.conf
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $pool
max_client_conn = 12000
log_connections = 0
log_disconnections = 0
logfile = $work/$2.log
EOF
}
pooler_ini "$jb_port" jbouncer >"$work/jbouncer.ini"
echo "${JBOUNCER_INI_EXTRA:-}" >>"$work/jbouncer.ini" # jbouncer's own keys, to compare settings
pooler_ini "$pgb_port" pgbouncer >"$work/pgbouncer.ini"
[[ $run_as != "$(id -un)" ]] && chown "$run_as" "$work"/*.ini "$work"/userlist.txt "$work"/hba.conf

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
declare -A port pid
port[direct]=$pg_port
targets="direct"
if [[ -n $pgbouncer ]]; then
  user_flag=()
  [[ $(id -u) -eq 0 ]] && user_flag=(-u "$run_as")
  "$pgbouncer" "${user_flag[@]}" "$work/pgbouncer.ini" >"$work/pgbouncer.out" 2>&1 &
  pid[pgbouncer]=$!
  pids+=("${pid[pgbouncer]}")
  port[pgbouncer]=$pgb_port
  targets="$targets pgbouncer"
  echo "==> $("$pgbouncer" -V | head -1) on port $pgb_port"
else
  echo "==> PgBouncer is not installed (apt-get install pgbouncer): direct and jbouncer only"
fi
# -Xmx256m: the heap jbouncer is meant to need for 10,000 clients, for the whole matrix;
# _JAVA_SR_SIGNUM as ./jbouncer sets it, so that a profiler's samples are no SIGUSR2 (RESUME)
# shellcheck disable=SC2086 # JBOUNCER_JAVA_OPTS is a list of options
_JAVA_SR_SIGNUM=40 java ${JBOUNCER_JAVA_OPTS:--Xmx256m} -jar "$jar" "$work/jbouncer.ini" >"$work/jbouncer.out" 2>&1 &
pid[jbouncer]=$!
pids+=("${pid[jbouncer]}")
port[jbouncer]=$jb_port
targets="$targets jbouncer"
for t in $targets; do
  for i in $(seq 101); do
    psql -X -h 127.0.0.1 -p "${port[$t]}" -U bench -d bench -Atqc 'select 1' >/dev/null 2>&1 && break
    if [[ $i == 101 ]]; then
      echo "$t does not answer on port ${port[$t]}:" >&2
      cat "$work/$t.out" "$work/$t.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.2
  done
done
echo "==> jbouncer $(java -jar "$jar" -V 2>/dev/null | head -1) on port $jb_port"

cpu_ticks() { # utime + stime of PID, in clock ticks
  [[ -n ${1:-} && -r /proc/$1/stat ]] || { echo 0; return; }
  awk '{print $14 + $15}' "/proc/$1/stat"
}
tick=$(getconf CLK_TCK)

run() { # CELL TARGET ROUND
  local cell=$1 target=$2 round=$3 clients opts=() db=bench user=bench
  case $cell in
    S*) clients=${cell#S}; opts=(-S) ;;
    TPCB*) clients=${cell#TPCB} ;;
    C*trust) clients=${cell#C}; clients=${clients%trust}; opts=(-S -C); db=bench_trust; user=bench_trust ;;
    C*) clients=${cell#C}; opts=(-S -C) ;;
    X*) clients=${cell#X}; opts=(-S -M extended) ;;
    P*) clients=${cell#P}; opts=(-S -M prepared) ;;
  esac
  [[ $target == direct && $db == bench_trust ]] && db=bench
  local threads=$((clients < 2 ? 1 : 2))
  local logs="$work/logs/$cell.$target.$round"
  mkdir -p "$logs"
  local before after
  before=$(cpu_ticks "${pid[$target]:-}")
  pgbench -h 127.0.0.1 -p "${port[$target]}" -U "$user" "${opts[@]}" -c "$clients" -j "$threads" \
    -T "$duration" -n -l --log-prefix="$logs/log" "$db" >"$logs/out.txt" 2>&1 || true
  after=$(cpu_ticks "${pid[$target]:-}")
  local tps failed avg error=""
  tps=$(awk '/^tps = / {print $3; exit}' "$logs/out.txt")
  failed=$(awk '/number of failed transactions/ {print $5; exit}' "$logs/out.txt")
  avg=$(awk '/^latency average/ {print $4; exit}' "$logs/out.txt")
  if [[ -z $tps ]] || grep -q "aborted\|error" "$logs/out.txt"; then
    error=$(grep -m1 -E "error|FATAL|aborted|failed|could not" "$logs/out.txt" | tr ',"\n' ';  ' | cut -c1-150 || true)
    error=${error:-no result}
  fi
  local p50="" p99="" cpu=""
  if cat "$logs"/log* >/dev/null 2>&1; then
    read -r p50 p99 < <(cat "$logs"/log* | awk '{print $3}' | sort -n | awk '
      {v[NR] = $1} END {
        if (NR == 0) { print "", ""; exit }
        i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
        i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
        printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
  fi
  local txns
  txns=$(awk '/number of transactions actually processed/ {print $6; exit}' "$logs/out.txt")
  if [[ -n ${pid[$target]:-} && -n $txns && $txns -gt 0 ]]; then
    cpu=$(awk -v d=$((after - before)) -v t="$tick" -v n="$txns" 'BEGIN {printf "%.2f", d / t * 1e6 / n}')
  fi
  rm -rf "$logs"
  echo "$round,$cell,$target,$clients,${tps:-},${failed:-},${avg:-},$p50,$p99,$cpu,$error" >>"$out/runs.csv"
  printf '  %-9s %-10s round %s: %10s tps  p99 %8s ms  cpu %6s us/txn %s\n' \
    "$cell" "$target" "$round" "${tps:-?}" "${p99:-?}" "${cpu:--}" "$error"
}

# the JIT compiles jbouncer's hot paths in its first seconds: warm both poolers up, unrecorded
echo "==> warm-up (not recorded)"
for target in $targets; do
  [[ $target == direct ]] && continue
  pgbench -h 127.0.0.1 -p "${port[$target]}" -U bench -S -c 20 -j 2 -T 5 -n bench >/dev/null 2>&1 || true
  pgbench -h 127.0.0.1 -p "${port[$target]}" -U bench_trust -S -C -c 20 -j 2 -T 5 -n bench_trust \
    >/dev/null 2>&1 || true
done

echo "round,cell,target,clients,tps,failed,lat_avg_ms,p50_ms,p99_ms,cpu_us_per_txn,error" >"$out/runs.csv"
echo "==> cells: $cells; $rounds rounds of $duration s; targets: $targets"
for round in $(seq "$rounds"); do
  for cell in $cells; do
    for target in $targets; do
      run "$cell" "$target" "$round"
    done
  done
done

live_heap() { # bytes of live Java objects in PID after a full collection; empty for non-Java
  [[ $1 == jbouncer ]] || return 0
  jcmd "${pid[$1]}" GC.class_histogram 2>/dev/null | awk '/^Total/ {print $3}'
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# Connection scale: many idle logged-in clients (trust, so that the clients' own SCRAM work does
# not dominate) held against each pooler while a 50-client select-only pgbench runs.
scale() { # TARGET
  local target=$1 p=${pid[$1]} heap0 rss0 heap1 rss1 held tps checked
  heap0=$(live_heap "$target")
  rss0=$(rss_kb "$p")
  rm -f "$work/scale.in" && mkfifo "$work/scale.in"
  java -Xss256k -cp "$report_jar" io.jbouncer.bench.ConnectionScale 127.0.0.1 "${port[$target]}" \
    bench_trust bench_trust "$scale_clients" <"$work/scale.in" >"$work/scale.out" 2>&1 &
  local holder=$!
  exec 3>"$work/scale.in"
  until held=$(grep -m1 -E "^held|^failed" "$work/scale.out"); do
    kill -0 $holder 2>/dev/null || { held="failed: $(cat "$work/scale.out")"; break; }
    sleep 0.5
  done
  pgbench -h 127.0.0.1 -p "${port[$target]}" -U bench -S -c 50 -j 2 -T "$duration" -n bench \
    >"$work/scale.pgbench" 2>&1 || true
  tps=$(awk '/^tps = / {print $3; exit}' "$work/scale.pgbench")
  heap1=$(live_heap "$target")
  rss1=$(rss_kb "$p")
  echo >&3
  exec 3>&-
  wait $holder || true
  checked=$(grep -m1 -E "^checked|^failed" "$work/scale.out" || true)
  local per_client_heap="" per_client_rss
  [[ -n $heap0 && -n $heap1 ]] && per_client_heap=$(((heap1 - heap0) / scale_clients))
  per_client_rss=$(((rss1 - rss0) * 1024 / scale_clients))
  echo "$target,$scale_clients,${tps:-},$rss0,$rss1,$per_client_rss,${heap0:-},${heap1:-},$per_client_heap,${held%% (*}; $checked" \
    >>"$out/scale.csv"
  printf '  %-10s %s idle clients: pgbench %s tps; RSS %s -> %s KiB (%s B/client); live heap %s -> %s B (%s B/client); %s, %s\n' \
    "$target" "$scale_clients" "${tps:-?}" "$rss0" "$rss1" "$per_client_rss" "${heap0:--}" "${heap1:--}" \
    "${per_client_heap:--}" "$held" "$checked"
}

if [[ $scale_clients -gt 0 ]]; then
  echo "target,idle_clients,pgbench_tps,rss_before_kb,rss_with_clients_kb,rss_bytes_per_client,heap_before_bytes,heap_with_clients_bytes,heap_bytes_per_client,holder" >"$out/scale.csv"
  echo "==> connection scale: $scale_clients idle clients and a 50-client pgbench"
  for target in $targets; do
    [[ $target == direct ]] || scale "$target"
  done
fi

# Odoo as its workers talk: psycopg2, simple protocol, DISCARD ALL per borrow, LISTEN on postgres
odoo() { # TARGET MODE
  local target=$1 mode=$2 flags=() dsn="host=127.0.0.1 port=${port[$1]} user=bench password=bench_pass"
  [[ $mode == dbfilter ]] && flags=(--dbfilter)
  $python "$root/bench/odoo_workload.py" --app-dsn "$dsn dbname=odoo" --postgres-dsn "$dsn dbname=postgres" \
    --duration "$odoo_duration" --label "$target" "${flags[@]}" --json >"$work/odoo.out" 2>&1 || true
  tail -1 "$work/odoo.out" | $python -c '
import json, sys
target, mode = sys.argv[1:3]
try:
    r = json.loads(sys.stdin.read())
except ValueError:
    print(target + "," + mode + ",,,,,,,,,did not finish"); sys.exit()
n, lat = r["notifications"], r["latency_ms"]
errors = ";".join(f"{k} {v}" for k, v in r["error_breakdown"].items())[:150].replace(",", ";")
fields = [target, mode, r["requests_per_s"], lat["p50"], lat["p99"], r["failed_requests"], r["errors"],
          n["sent"], n["received"], n["missing"], errors]
print(",".join(str(f) for f in fields))
' "$target" "$mode" \
    | tee -a "$out/odoo.csv" | awk -F, '{printf "  %-10s %-8s %8s req/s  p50 %8s ms  p99 %8s ms  failed %s  notifications %s/%s %s\n", $1, $2, $3, $4, $5, $6, $9, $8, $11}'
}
if [[ $odoo_duration != 0 ]]; then
  python=/usr/bin/python3 # Debian's, which python3-psycopg2 installs into (not a pyenv's)
  [[ -x $python ]] || python=python3
  if ! $python -c 'import psycopg2' 2>/dev/null && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "==> installing python3-psycopg2 for the Odoo workload"
    apt-get install -y -q python3-psycopg2 >/dev/null 2>&1 || true
  fi
  if $python -c 'import psycopg2' 2>/dev/null; then
    echo "==> Odoo-shaped workload, $odoo_duration s per run (requests/s, latency, notifications received/sent)"
    $python "$root/bench/odoo_workload.py" --setup \
      --app-dsn "host=127.0.0.1 port=$pg_port dbname=odoo user=bench password=bench_pass" >/dev/null
    echo "target,mode,requests_per_s,p50_ms,p99_ms,failed_requests,errors,notifications_sent,notifications_received,notifications_missing,error_kinds" >"$out/odoo.csv"
    for mode in plain dbfilter; do
      for target in $targets; do
        odoo "$target" "$mode"
      done
    done
  else
    echo "==> no psycopg2 (apt-get install python3-psycopg2): Odoo workload skipped"
  fi
fi

{
  echo "peak RSS (VmHWM):"
  for t in pgbouncer jbouncer; do
    [[ -n ${pid[$t]:-} && -r /proc/${pid[$t]}/status ]] &&
      echo "  $t: $(awk '/VmHWM/ {print $2, $3}' "/proc/${pid[$t]}/status")"
  done
  echo "machine: $(nproc) cores, $(uname -srm); PostgreSQL $("$bindir/postgres" -V | awk '{print $3}')"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%MZ)"
} | tee "$out/environment.txt"
java -cp "$report_jar" io.jbouncer.bench.MatrixReport "$out/runs.csv" "$out"
echo "==> $out: runs.csv scale.csv odoo.csv summary.csv summary.md tps.png p99.png environment.txt"

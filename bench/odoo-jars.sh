#!/usr/bin/env bash
# The Odoo-shaped workload (bench/odoo_workload.py) through one or more jbouncer jars in turn, two
# rounds, each jar with the same config: a plain "* =" entry in transaction mode, so that the bus's
# LISTEN on database postgres is pooled too (set POSTGRES_LINE to give postgres its own entry, with
# PORT standing for PostgreSQL's port, e.g. "postgres = host=127.0.0.1 port=PORT pool_mode=session").
# For A/B measurements of one change:
#
#   bench/odoo-jars.sh SECONDS old.jar new.jar
#
# Prints one line per run (requests/s, p50, p99, failures, notifications received / sent) and
# SHOW PINNED after it. Needs PostgreSQL's binaries and python3-psycopg2; runs as root or not.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs=$1
shift
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -n $bindir ]] || bindir=$(dirname "$(command -v pg_ctl)")
python=/usr/bin/python3
[[ -x $python ]] || python=python3
work=$(mktemp -d /tmp/jbouncer-odoo.XXXXXX)
chmod 755 "$work"
as_pg=()
if [[ $(id -u) -eq 0 ]]; then # PostgreSQL refuses root
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
port=$((21000 + RANDOM % 5000))
jport=$((port + 1))
echo bench_pass >"$work/pw"
chmod 644 "$work/pw"
"${as_pg[@]}" "$bindir/initdb" -D "$work/data" -U bench --pwfile="$work/pw" --auth=scram-sha-256 \
  --no-sync -E UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" start -D "$work/data" -l "$work/pg.log" -w -o \
  "-p $port -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" >/dev/null
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  "${as_pg[@]}" "$bindir/pg_ctl" stop -D "$work/data" -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export PGPASSWORD=bench_pass
psql -X -q -h 127.0.0.1 -p "$port" -U bench -d postgres -c "create database odoo"
"$python" "$root/bench/odoo_workload.py" --setup \
  --app-dsn "host=127.0.0.1 port=$port dbname=odoo user=bench password=bench_pass" >/dev/null
printf '"bench" "bench_pass"\n' >"$work/users.txt"
postgres_line=${POSTGRES_LINE:-}
cat >"$work/jbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$port
${postgres_line//PORT/$port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $jport
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $work/users.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 1000
log_connections = 0
log_disconnections = 0
admin_users = bench
logfile = $work/jbouncer.log
INI
dsn="host=127.0.0.1 port=$jport user=bench password=bench_pass"
for round in 1 2; do
  for jar in "$@"; do
    _JAVA_SR_SIGNUM=40 java -Xmx256m -jar "$jar" "$work/jbouncer.ini" >"$work/jbouncer.out" 2>&1 &
    jpid=$!
    for _ in $(seq 50); do
      psql -X -h 127.0.0.1 -p "$jport" -U bench -d odoo -Atqc 'select 1' >/dev/null 2>&1 && break
      sleep 0.2
    done
    "$python" "$root/bench/odoo_workload.py" --app-dsn "$dsn dbname=odoo" \
      --postgres-dsn "$dsn dbname=postgres" --duration "$secs" --label "$(basename "$jar") round $round" \
      --json 2>&1 | tail -1 | "$python" -c '
import json, sys
r = json.loads(sys.stdin.read())
n, lat = r["notifications"], r["latency_ms"]
print(r["label"] + ":", r["requests_per_s"], "req/s, p50", lat["p50"], "ms, p99", lat["p99"],
      "ms, failed", r["failed_requests"], ", notifications", n["received"], "/", n["sent"],
      r["error_breakdown"] or "")'
    psql -X -h 127.0.0.1 -p "$jport" -U bench -d pgbouncer -c "show pinned" 2>/dev/null || true
    kill "$jpid"
    wait "$jpid" 2>/dev/null || true
  done
done

#!/usr/bin/env bash
# PostgreSQL restarted under load, through jbouncer (issue 4's acceptance run):
#
#   bench/restart-under-load.sh [SECONDS] [CLIENTS] [POOL_SIZE] [SERVER_LOGIN_RETRY]
#
# Starts a throw-away PostgreSQL cluster (the pg_ctl found on PATH or under /usr/lib/postgresql)
# and jbouncer in front of it (transaction mode, md5 clients, SCRAM to the server), loads it with
# `pgbench -c CLIENTS -j 2 -T SECONDS`, restarts PostgreSQL (fast shutdown) half-way through, and
# samples pg_stat_activity every 0.2 s. Prints pgbench's report, the most server connections
# PostgreSQL saw at once, and whether a client connecting after the restart was served.
# Defaults: 60 s, 100 clients, pool size 20, server_login_retry 15 (PgBouncer's default).
set -euo pipefail
seconds=${1:-60}
clients=${2:-100}
pool_size=${3:-20}
login_retry=${4:-15}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

work_name=restart
# shellcheck source=bench/throwaway-postgres.sh
source "$root/bench/throwaway-postgres.sh"

echo "==> PostgreSQL ($bindir) on port $pg_port, work dir $work"
echo bench_pass >"$work/pwfile"
chmod 644 "$work/pwfile"
pg initdb -D "$work/data" -U bench --pwfile="$work/pwfile" --auth=scram-sha-256 \
  --no-sync -E UTF8 --locale=C >/dev/null
pg pg_ctl start -D "$work/data" -l "$work/postgres.log" -w \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" >/dev/null
export PGPASSWORD=bench_pass
psql -h 127.0.0.1 -p "$pg_port" -U bench -d postgres -qc "create database bench"
pgbench -h 127.0.0.1 -p "$pg_port" -U bench -i -s 10 -q bench 2>&1 | tail -1

cat >"$work/jbouncer.ini" <<EOF
[databases]
bench = host=127.0.0.1 port=$pg_port dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $jb_port
auth_type = md5
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = $((clients + 50))
server_login_retry = $login_retry
log_connections = 0
log_disconnections = 0
EOF
echo '"bench" "bench_pass"' >"$work/userlist.txt"
"$root/jbouncer" "$work/jbouncer.ini" >"$work/jbouncer.log" 2>&1 &
jb_pid=$!
for _ in $(seq 100); do
  psql -h 127.0.0.1 -p "$jb_port" -U bench -d bench -Atqc 'select 1' >/dev/null 2>&1 && break
  sleep 0.2
done
echo "==> jbouncer (pid $jb_pid) on port $jb_port: pool_size $pool_size, server_login_retry $login_retry"

sample() {
  while kill -0 "$jb_pid" 2>/dev/null; do
    psql -h "$work" -p "$pg_port" -U bench -d postgres -Atqc \
      "select count(*) from pg_stat_activity where datname = 'bench'" 2>/dev/null || echo down
    sleep 0.2
  done
}
sample >"$work/samples" &
sampler=$!

echo "==> pgbench -c $clients -j 2 -T $seconds through jbouncer; PostgreSQL restarts at $((seconds / 2)) s"
pgbench -h 127.0.0.1 -p "$jb_port" -U bench -c "$clients" -j 2 -T "$seconds" -P 5 bench \
  >"$work/pgbench.out" 2>"$work/pgbench.err" &
bench=$!
sleep $((seconds / 2))
restart_start=$(date +%s.%N)
pg pg_ctl restart -D "$work/data" -m fast -w \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" >/dev/null
echo "==> PostgreSQL restarted in $(echo "$(date +%s.%N) - $restart_start" | bc) s"
sleep 1
after=$(psql -h 127.0.0.1 -p "$jb_port" -U bench -d bench -Atc "select 'served'" 2>&1 || true)
echo "==> a client connecting 1 s after the restart: $after"
wait "$bench" || true
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true

echo "==> pgbench"
grep -E "^(number of|latency|tps|progress|initial)" "$work/pgbench.out" || true
echo "aborted clients: $(grep -c 'client .* aborted' "$work/pgbench.err" || true), by error:"
grep 'client .* aborted' "$work/pgbench.err" | sed 's/.*query [0-9]*: //' | sort | uniq -c | sort -rn || true
up=$(grep -v down "$work/samples" | sort -n | tail -1)
echo "==> pg_stat_activity: $(wc -l <"$work/samples") samples, $(grep -c down "$work/samples" || true) while down, at most $up backends (limit $pool_size)"
if kill -0 "$jb_pid" 2>/dev/null; then echo "==> jbouncer still running"; else echo "==> jbouncer DIED"; fi
final=$(psql -h 127.0.0.1 -p "$jb_port" -U bench -d bench -Atc "select 'served'" 2>&1 || true)
echo "==> a client after the run: $final"
echo "==> jbouncer log lines by reason:"
grep -o 'closing because: [^(]*' "$work/jbouncer.log" | sort | uniq -c | sort -rn | head -10
[[ $up -le $pool_size && $final == served ]]

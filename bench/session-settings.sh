#!/usr/bin/env bash
# What session settings cost under transaction pooling (issue 7): pgbench scripts that SET a
# parameter PostgreSQL does not report, direct and through jbouncer, side by side:
#
#   bench/session-settings.sh [SECONDS] [CLIENTS] [JAR]
#
#   select       SELECT by primary key                        (the baseline)
#   set+select   SET statement_timeout; SELECT                (a lone SET: replayed from its text)
#   txn          BEGIN; SELECT; COMMIT
#   txn+set      BEGIN; SET statement_timeout; SELECT; COMMIT (taken from its text at COMMIT)
#   txn+local    BEGIN; SELECT set_config(..., true); SELECT; COMMIT  (PostgREST: no question)
#   txn+config   BEGIN; SELECT set_config(..., false); SELECT; COMMIT (the server is asked after)
#
# Starts a throw-away PostgreSQL (pg_ctl on PATH or under /usr/lib/postgresql) at pgbench scale 5,
# and jbouncer (JAR, default proxy/target/jbouncer.jar) in transaction mode, pool size 20. Prints
# tps for each script and target. Defaults: 8 s, 10 clients.
set -euo pipefail
seconds=${1:-8}
clients=${2:-10}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar=${3:-$root/proxy/target/jbouncer.jar}

work_name=settings
# shellcheck source=bench/throwaway-postgres.sh
source "$root/bench/throwaway-postgres.sh"

pg initdb -D "$work/data" -U bench --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
pg pg_ctl start -D "$work/data" -l "$work/postgres.log" -w \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null
psql -h 127.0.0.1 -p "$pg_port" -U bench -d postgres -qc "create database bench"
"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U bench -i -s 5 -q bench >/dev/null 2>&1

cat >"$work/jbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$pg_port dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $jb_port
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = 20
log_connections = 0
log_disconnections = 0
INI
echo '"bench" ""' >"$work/userlist.txt"
java -Xmx256m -jar "$jar" "$work/jbouncer.ini" >"$work/jbouncer.log" 2>&1 &
jb_pid=$!
for _ in $(seq 100); do
  psql -h 127.0.0.1 -p "$jb_port" -U bench -d bench -Atqc 'select 1' >/dev/null 2>&1 && break
  sleep 0.2
done

aid='\set aid random(1, 500000)'
select='SELECT abalance FROM pgbench_accounts WHERE aid = :aid;'
printf '%s\n%s\n' "$aid" "$select" >"$work/select.sql"
printf '%s\nSET statement_timeout = 60000;\n%s\n' "$aid" "$select" >"$work/set+select.sql"
printf '%s\nBEGIN;\n%s\nCOMMIT;\n' "$aid" "$select" >"$work/txn.sql"
printf '%s\nBEGIN;\nSET statement_timeout = 60000;\n%s\nCOMMIT;\n' "$aid" "$select" >"$work/txn+set.sql"
for local in true false; do
  printf '%s\nBEGIN;\nSELECT set_config('"'"'statement_timeout'"'"', '"'"'60000'"'"', %s);\n%s\nCOMMIT;\n' \
    "$aid" "$local" "$select" >"$work/txn+config-$local.sql"
done
mv "$work/txn+config-true.sql" "$work/txn+local.sql"
mv "$work/txn+config-false.sql" "$work/txn+config.sql"

printf '%-12s %12s %12s\n' script direct jbouncer
for script in select set+select txn txn+set txn+local txn+config; do
  line=$(printf '%-12s' "$script")
  for port in "$pg_port" "$jb_port"; do
    tps=$("$bindir/pgbench" -h 127.0.0.1 -p "$port" -U bench -n -c "$clients" -j 2 -T "$seconds" \
      -f "$work/$script.sql" bench 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    line="$line $(printf '%12.0f' "${tps:-0}")"
  done
  echo "$line"
done

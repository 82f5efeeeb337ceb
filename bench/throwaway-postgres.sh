# Sourced by the bench scripts that start their own PostgreSQL: sets bindir (PostgreSQL's
# binaries, following a pg_ctl symlink on PATH), work (a temporary directory, named after
# $work_name), pg_port and jb_port (free-ish ports for PostgreSQL and jbouncer), and pg (runs one
# of PostgreSQL's binaries, as user postgres when we are root: initdb refuses root). On exit it
# stops jbouncer ($jb_pid, when set) and PostgreSQL, and removes the directory.
# shellcheck shell=bash
bindir=$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl | tail -1)")")
work=$(mktemp -d "/tmp/jbouncer-${work_name:-bench}.XXXXXX")
chmod 755 "$work"
pg_port=$((20000 + RANDOM % 10000))
jb_port=$((pg_port + 1))
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  pg_user=$(id -un postgres 2>/dev/null || echo nobody)
  chown "$pg_user" "$work"
  as_pg=(runuser -u "$pg_user" --)
fi
pg() { "${as_pg[@]}" "$bindir/$1" "${@:2}"; }
cleanup() {
  [[ -n ${jb_pid:-} ]] && kill "$jb_pid" 2>/dev/null || true
  pg pg_ctl stop -D "$work/data" -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

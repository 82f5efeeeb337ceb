#!/usr/bin/env python3
"""Odoo 17-like load on PostgreSQL through psycopg2, to compare direct PostgreSQL, PgBouncer and jbouncer.

Usage:

  # once: a small Odoo-like schema in the application database (idempotent)
  /usr/bin/python3 bench/odoo_workload.py --setup \\
      --app-dsn "host=127.0.0.1 port=6432 dbname=odoo user=bench password=x"

  # the load: 8 HTTP workers, 1 cron, 20 s
  /usr/bin/python3 bench/odoo_workload.py \\
      --app-dsn "host=127.0.0.1 port=6432 dbname=odoo user=bench password=x" \\
      --postgres-dsn "host=127.0.0.1 port=6432 dbname=postgres user=bench password=x" \\
      --duration 20 --workers 8 --crons 1 [--dbfilter] --label pgbouncer --json

--postgres-dsn defaults to the application DSN with dbname=postgres. The last line printed with
--json is one JSON object with the results. Only the standard library and psycopg2 are used.

What goes on the wire, and why
------------------------------
Odoo speaks through psycopg2, which only uses the simple query protocol: parameters are
interpolated client-side and every execute() is one Query message. This script uses psycopg2 the
way Odoo 17's sql_db does, so the server (or pooler) sees the same sequence of Query messages:

* Connections are used with autocommit off and isolation level REPEATABLE READ
  (conn.set_isolation_level(), as Odoo's Cursor.autocommit(False)). psycopg2 then sends
  "BEGIN ISOLATION LEVEL REPEATABLE READ" as its own Query message before the first statement of a
  transaction, and conn.commit()/conn.rollback() send "COMMIT"/"ROLLBACK" as their own messages
  (rollback of an idle connection sends nothing). No statement string ever holds two statements.
* Borrowing a pooled connection calls psycopg2's conn.reset(), like Odoo's ConnectionPool.borrow():
  it sends "DISCARD ALL" (preceded by "ABORT" if a transaction was left open), again as its own
  Query. A fresh connection is not reset. Connections to the database "postgres" are never pooled
  by Odoo: they are opened, used for one transaction, and closed.

One "stateless RPC request" of a worker (each worker is one prefork Odoo HTTP worker with its own
small pool of connections to the application database):

  [--dbfilter] fresh connection to postgres: BEGIN RR; SELECT datname FROM pg_database ...; ROLLBACK;
               close (Odoo's db_list(), i.e. connect + SCRAM on every request)
  cursor A   (borrow: DISCARD ALL) BEGIN RR; SELECT <last_value of the 5 signaling sequences> (the
             registry check_signaling query of Odoo 17, one statement); ROLLBACK. A stays borrowed.
  cursor B   (borrow: DISCARD ALL) BEGIN RR; SELECT now(); read env.user; 3-5 SELECTs of a
             search_read / web_read / name_search + read_group on partners, orders and order lines
             (LIMIT, joins); SAVEPOINT "<uuid>"; UPDATE of one row (Odoo 17's UPDATE .. FROM (VALUES ..));
             RELEASE SAVEPOINT; every 10th request ir.sequence next (SELECT ir_sequence + nextval);
             every --notify-every-th request INSERT INTO bus_bus; COMMIT. Serialization failures and
             deadlocks are retried like odoo.service.model.retrying (up to 5 tries, random back-off).
  bus notify every --notify-every-th request, after COMMIT while A and B are still held (the bus
             post-commit hook): fresh connection to postgres: BEGIN RR;
             SELECT "pg_notify"('imbus', '<json with a unique id>'); COMMIT; close.
  cursor C   (borrow while A and B are held: DISCARD ALL) BEGIN RR; session token check (res_users +
             ir_config_parameter); ROLLBACK. Every 2nd request C is given back and borrowed once
             more (another DISCARD ALL), so a request resets 3 or 4 pooled connections and holds up
             to 3 connections at once.

Cron workers (--crons): borrow (DISCARD ALL), BEGIN RR; claim one job of queue_job with
SELECT ... FOR NO KEY UPDATE SKIP LOCKED; mark it started; hold the transaction 1-2 s doing small
reads and updates; mark it done and enqueue a new pending job; COMMIT; repeat.

The bus: one long-lived connection to postgres, autocommit, "LISTEN imbus", select() + poll(),
counting the notifications of this run (matched by a run token in the payload). Through a
transaction-mode pooler LISTEN does not follow the client: that shows up as notifications received
< sent, and is reported, not hidden. Notifications that arrive on any other connection of the
script are counted as "stray".

Robustness: connect_timeout (default 5 s) is added to the DSNs unless present; any failing
connection is counted as an error and replaced; after --duration the script waits up to 4 s for
requests and cron jobs in flight, then shuts down the sockets of connections still stuck in a query
(psycopg2's conn.cancel() is not used: it runs PQcancel holding the GIL, which freezes every thread
when the target does not answer), reports and exits. A faulthandler timer kills the process (with
a traceback, without a report) if it is still alive 12 s after the end of the load. Statement
timeouts are not set through the DSN because PgBouncer rejects the "options" startup parameter by
default (and SET would change the traffic).
"""

import argparse
import faulthandler
import json
import math
import os
import random
import re
import select
import socket
import sys
import threading
import time
import uuid
from collections import Counter

import psycopg2
import psycopg2.extensions as ext

RR = ext.ISOLATION_LEVEL_REPEATABLE_READ

# Odoo 17 modules/registry.py: base_registry_signaling + one sequence per key of _CACHES_BY_KEY
SIGNALING_SEQUENCES = [
    "base_registry_signaling",
    "base_cache_signaling_default",
    "base_cache_signaling_assets",
    "base_cache_signaling_templates",
    "base_cache_signaling_routing",
]
SIGNALING_QUERY = "\n            SELECT base_registry_signaling.last_value, %s\n            FROM base_registry_signaling, %s\n        " % (
    ",\n".join("%s.last_value" % s for s in SIGNALING_SEQUENCES[1:]),
    ", ".join(SIGNALING_SEQUENCES[1:]),
)

# Odoo 17 service/db.py list_dbs()
DB_LIST_QUERY = (
    "select datname from pg_database where datdba=(select usesysid from pg_user where usename=current_user)"
    " and not datistemplate and datallowconn and datname not in %s order by datname"
)

# odoo.service.model.PG_CONCURRENCY_ERRORS_TO_RETRY: lock not available, serialization failure, deadlock
CONCURRENCY_ERRORS = ("55P03", "40001", "40P01")
MAX_TRIES = 5

N_PARTNERS = 5000
N_ORDERS = 3000
N_LINES = 10000
N_USERS = 20
N_JOBS = 200

SETUP_DDL = [
    """CREATE TABLE IF NOT EXISTS res_company (
        id serial PRIMARY KEY, name varchar NOT NULL, currency_id int4, partner_id int4,
        create_date timestamp, write_date timestamp)""",
    """CREATE TABLE IF NOT EXISTS res_partner (
        id serial PRIMARY KEY, name varchar, complete_name varchar, display_name varchar,
        email varchar, phone varchar, street varchar, city varchar, zip varchar, country_id int4,
        company_id int4, parent_id int4 REFERENCES res_partner(id) ON DELETE SET NULL,
        is_company bool, active bool DEFAULT true, customer_rank int4 DEFAULT 0, lang varchar,
        comment text, create_uid int4, create_date timestamp, write_uid int4, write_date timestamp)""",
    """CREATE TABLE IF NOT EXISTS res_users (
        id serial PRIMARY KEY, login varchar NOT NULL UNIQUE, password varchar, active bool DEFAULT true,
        company_id int4, partner_id int4 REFERENCES res_partner(id), share bool DEFAULT false,
        totp_secret varchar, create_date timestamp, write_date timestamp)""",
    """CREATE TABLE IF NOT EXISTS ir_config_parameter (
        id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL,
        create_date timestamp, write_date timestamp)""",
    """CREATE TABLE IF NOT EXISTS sale_order (
        id serial PRIMARY KEY, name varchar NOT NULL, partner_id int4 NOT NULL REFERENCES res_partner(id),
        company_id int4 NOT NULL, user_id int4, state varchar, date_order timestamp NOT NULL,
        amount_untaxed numeric, amount_tax numeric, amount_total numeric, note text,
        create_uid int4, create_date timestamp, write_uid int4, write_date timestamp)""",
    """CREATE TABLE IF NOT EXISTS sale_order_line (
        id serial PRIMARY KEY, order_id int4 NOT NULL REFERENCES sale_order(id) ON DELETE CASCADE,
        sequence int4, name text NOT NULL, product_id int4, product_uom_qty numeric, price_unit numeric,
        discount numeric, price_subtotal numeric, price_total numeric, state varchar,
        create_date timestamp, write_date timestamp)""",
    """CREATE TABLE IF NOT EXISTS queue_job (
        id serial PRIMARY KEY, uuid varchar NOT NULL, name varchar, model_name varchar,
        method_name varchar, records text, state varchar NOT NULL, priority int4, channel varchar,
        eta timestamp, date_created timestamp, date_enqueued timestamp, date_started timestamp,
        date_done timestamp, worker_pid int4, retry int4 DEFAULT 0, result text, exc_info text,
        write_date timestamp)""",
    """CREATE TABLE IF NOT EXISTS bus_bus (
        id serial PRIMARY KEY, channel varchar, message varchar,
        create_uid int4, create_date timestamp, write_uid int4, write_date timestamp)""",
    """CREATE TABLE IF NOT EXISTS ir_sequence (
        id serial PRIMARY KEY, name varchar NOT NULL, code varchar, implementation varchar NOT NULL,
        prefix varchar, suffix varchar, padding int4, number_next int4, number_increment int4,
        use_date_range bool DEFAULT false, company_id int4, active bool DEFAULT true)""",
    "CREATE INDEX IF NOT EXISTS res_partner_complete_name_index ON res_partner (complete_name)",
    "CREATE INDEX IF NOT EXISTS res_partner_parent_id_index ON res_partner (parent_id)",
    "CREATE INDEX IF NOT EXISTS res_partner_email_index ON res_partner (email)",
    "CREATE INDEX IF NOT EXISTS sale_order_partner_id_index ON sale_order (partner_id)",
    "CREATE INDEX IF NOT EXISTS sale_order_date_order_id_idx ON sale_order (date_order DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS sale_order_state_index ON sale_order (state)",
    "CREATE INDEX IF NOT EXISTS sale_order_line_order_id_index ON sale_order_line (order_id)",
    "CREATE INDEX IF NOT EXISTS queue_job_state_prio_idx ON queue_job (state, priority, date_created)",
    "CREATE INDEX IF NOT EXISTS bus_bus_create_date_index ON bus_bus (create_date)",
]

SETUP_DATA = [
    # the volatile tables start over on every --setup, so that --setup stays idempotent
    "TRUNCATE res_company, res_partner, res_users, ir_config_parameter, sale_order, sale_order_line,"
    " queue_job, bus_bus, ir_sequence RESTART IDENTITY CASCADE",
    """INSERT INTO res_company (id, name, currency_id, partner_id, create_date, write_date)
       VALUES (1, 'Bench Company', 1, 1, now() at time zone 'UTC', now() at time zone 'UTC')""",
    """INSERT INTO res_partner (id, name, complete_name, display_name, email, phone, street, city, zip,
                                country_id, company_id, parent_id, is_company, active, customer_rank,
                                lang, comment, create_uid, create_date, write_uid, write_date)
       SELECT i,
              CASE WHEN i %% 5 = 1 THEN 'Company ' || substr(md5(i::text), 1, 6)
                   ELSE 'Contact ' || substr(md5(i::text), 1, 8) END,
              CASE WHEN i %% 5 = 1 THEN 'Company ' || substr(md5(i::text), 1, 6)
                   ELSE 'Company ' || substr(md5((((i - 1) / 5) * 5 + 1)::text), 1, 6)
                        || ', Contact ' || substr(md5(i::text), 1, 8) END,
              NULL,
              substr(md5(i::text), 1, 10) || '@example.com',
              '+32 2 ' || lpad((i * 7919 %% 1000000)::text, 6, '0'),
              (i %% 300) || ' ' || (ARRAY['Main St', 'Rue Haute', 'Kerkstraat', 'Avenue Louise'])[i %% 4 + 1],
              (ARRAY['Brussels', 'Liege', 'Gent', 'Namur', 'Antwerpen', 'Paris', 'Lille'])[i %% 7 + 1],
              lpad((1000 + i %% 8000)::text, 4, '0'),
              i %% 50 + 1, 1,
              CASE WHEN i %% 5 = 1 THEN NULL ELSE ((i - 1) / 5) * 5 + 1 END,
              i %% 5 = 1, i %% 50 <> 0, i %% 3,
              'en_US', NULL, 2, now() at time zone 'UTC', 2, now() at time zone 'UTC'
         FROM generate_series(1, %(partners)s) AS i""",
    "UPDATE res_partner SET display_name = complete_name",
    """INSERT INTO res_users (id, login, password, active, company_id, partner_id, share, create_date, write_date)
       SELECT i, 'user' || i, '$pbkdf2-sha512$600000$' || md5(i::text) || '$' || md5((i * 3)::text),
              true, 1, i * 5 + 2, i > 15, now() at time zone 'UTC', now() at time zone 'UTC'
         FROM generate_series(1, %(users)s) AS i""",
    """INSERT INTO ir_config_parameter (key, value, create_date, write_date) VALUES
       ('database.secret', md5('secret'), now() at time zone 'UTC', now() at time zone 'UTC'),
       ('database.uuid', md5('uuid'), now() at time zone 'UTC', now() at time zone 'UTC'),
       ('database.create_date', '2024-01-01 00:00:00', now() at time zone 'UTC', now() at time zone 'UTC'),
       ('web.base.url', 'http://localhost:8069', now() at time zone 'UTC', now() at time zone 'UTC')""",
    """INSERT INTO sale_order (id, name, partner_id, company_id, user_id, state, date_order, amount_untaxed,
                               amount_tax, amount_total, note, create_uid, create_date, write_uid, write_date)
       SELECT i, 'S' || lpad(i::text, 5, '0'), (i * 37) %% %(partners)s + 1, 1, i %% %(users)s + 1,
              (ARRAY['draft', 'sent', 'sale', 'sale', 'sale', 'cancel'])[i %% 6 + 1],
              timestamp '2024-01-01' + i * interval '97 minutes',
              (i * 13 %% 5000) + 10.5, ((i * 13 %% 5000) + 10.5) * 0.21, ((i * 13 %% 5000) + 10.5) * 1.21,
              NULL, 2, now() at time zone 'UTC', 2, now() at time zone 'UTC'
         FROM generate_series(1, %(orders)s) AS i""",
    """INSERT INTO sale_order_line (id, order_id, sequence, name, product_id, product_uom_qty, price_unit,
                                    discount, price_subtotal, price_total, state, create_date, write_date)
       SELECT i, (i - 1) %% %(orders)s + 1, 10 * ((i - 1) / %(orders)s), '[P' || (i %% 200 + 1) || '] Product '
              || substr(md5((i %% 200)::text), 1, 12), i %% 200 + 1, i %% 7 + 1, (i %% 90) + 9.99, 0,
              (i %% 7 + 1) * ((i %% 90) + 9.99), (i %% 7 + 1) * ((i %% 90) + 9.99) * 1.21,
              'sale', now() at time zone 'UTC', now() at time zone 'UTC'
         FROM generate_series(1, %(lines)s) AS i""",
    """INSERT INTO queue_job (uuid, name, model_name, method_name, records, state, priority, channel,
                              eta, date_created, date_enqueued)
       SELECT md5('job' || i), 'Recompute order ' || i, 'sale.order', '_cron_recompute',
              '[' || (i %% %(orders)s + 1) || ']', 'pending', 10, 'root', NULL,
              now() at time zone 'UTC', now() at time zone 'UTC'
         FROM generate_series(1, %(jobs)s) AS i""",
    """INSERT INTO ir_sequence (id, name, code, implementation, prefix, padding, number_next,
                               number_increment, company_id) VALUES
       (1, 'Sales Order', 'sale.order', 'standard', 'S', 5, 1, 1, 1),
       (2, 'Customer Invoices', 'account.move', 'standard', 'INV/', 4, 1, 1, 1),
       (3, 'Delivery Orders', 'stock.picking', 'standard', 'WH/OUT/', 5, 1, 1, 1)""",
] + [
    "SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT COALESCE(max(id), 0) + 1 FROM %s), false)" % (t, t)
    for t in ("res_company", "res_partner", "res_users", "sale_order", "sale_order_line", "ir_sequence")
]

SETUP_SEQUENCES = ["CREATE SEQUENCE IF NOT EXISTS %s INCREMENT BY 1 START WITH 1" % s for s in SIGNALING_SEQUENCES] + [
    "CREATE SEQUENCE IF NOT EXISTS ir_sequence_%03d INCREMENT BY 1 START WITH 1" % i for i in (1, 2, 3)
] + ["SELECT setval('%s', 1, true)" % s for s in SIGNALING_SEQUENCES] + [
    "SELECT setval('ir_sequence_%03d', 1, false)" % i for i in (1, 2, 3)
]


# --------------------------------------------------------------------------------------------------
# helpers


def normalize_dsn(dsn, dbname=None, app_name=None, connect_timeout=5):
    params = ext.parse_dsn(dsn)
    if dbname:
        params["dbname"] = dbname
    params.setdefault("connect_timeout", str(connect_timeout))
    if app_name:
        params.setdefault("application_name", app_name)  # Odoo sets application_name=odoo-<pid>
    return ext.make_dsn(**params)


def masked(dsn):
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn)


def error_key(where, exc):
    msg = str(exc).strip().splitlines()
    first = msg[0].strip() if msg else ""
    if len(first) > 160:
        first = first[:157] + "..."
    return "%s: %s: %s" % (where, type(exc).__name__, first)


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100.0 * len(sorted_values)) - 1))  # nearest rank
    return sorted_values[k]


def ms(v):
    return None if v is None else round(v * 1000.0, 3)


class Stats:
    """Per-thread counters, merged at the end (no locking on the hot path)."""

    def __init__(self):
        self.latencies = []
        self.requests = 0
        self.failed = 0
        self.errors = Counter()
        self.retries = 0
        self.queries = 0  # Query messages sent (BEGIN/COMMIT/ROLLBACK/DISCARD ALL included)
        self.discards = 0
        self.app_connects = 0
        self.pg_connects = 0
        self.notify_sent = 0
        self.notify_failed = 0
        self.stray = 0
        self.cron_claimed = 0
        self.cron_empty = 0
        self.cron_conflicts = 0
        self.cron_holds = []

    def err(self, where, exc):
        self.errors[error_key(where, exc)] += 1

    def merge(self, other):
        self.latencies.extend(other.latencies)
        self.errors.update(other.errors)
        self.cron_holds.extend(other.cron_holds)
        for name in ("requests", "failed", "retries", "queries", "discards", "app_connects", "pg_connects",
                     "notify_sent", "notify_failed", "stray", "cron_claimed", "cron_empty", "cron_conflicts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Session:
    """Wraps psycopg2 calls to count the Query messages psycopg2 sends."""

    def __init__(self, stats, active):
        self.stats = stats
        self.active = active  # connections in use, for the watchdog's cancel()

    def execute(self, conn, sql, params=None):
        if not conn.autocommit and conn.status == ext.STATUS_READY:
            self.stats.queries += 1  # psycopg2 sends BEGIN ISOLATION LEVEL REPEATABLE READ first
        cur = conn.cursor()
        try:
            self.stats.queries += 1
            cur.execute(sql, params)
            return cur.fetchall() if cur.description is not None else None
        finally:
            cur.close()

    def commit(self, conn):
        if conn.status != ext.STATUS_READY:
            self.stats.queries += 1
        conn.commit()

    def rollback(self, conn):
        if conn.status != ext.STATUS_READY:
            self.stats.queries += 1
        conn.rollback()

    def check_stray(self, conn):
        try:
            if conn.notifies:
                self.stats.stray += len(conn.notifies)
                del conn.notifies[:]
        except Exception:
            pass

    def connect(self, dsn):
        conn = psycopg2.connect(dsn)
        self.active.append(conn)
        return conn

    def close(self, conn):
        self.check_stray(conn)
        try:
            self.active.remove(conn)
        except ValueError:
            pass
        try:
            conn.close()
        except Exception:
            pass


class ConnectionPool:
    """One Odoo worker's pool (odoo.sql_db.ConnectionPool): reset() on borrow, no reset on give back."""

    def __init__(self, dsn, session, maxconn=8):
        self.dsn = dsn
        self.s = session
        self.maxconn = maxconn
        self.items = []  # [conn, used]

    def borrow(self, where="borrow"):
        st = self.s.stats
        self.items = [it for it in self.items if not it[0].closed or self.s.close(it[0])]
        for it in list(self.items):
            conn, used = it
            if used:
                continue
            try:
                if conn.status != ext.STATUS_READY:
                    st.queries += 1  # ABORT
                st.queries += 1
                st.discards += 1
                conn.reset()  # ABORT if needed, then DISCARD ALL
            except Exception as e:  # Odoo closes it and tries the next one; we count it too
                st.err(where + "-reset", e)
                self.items.remove(it)
                self.s.close(conn)
                continue
            conn.set_isolation_level(RR)  # Odoo's Cursor.autocommit(False); sends nothing
            it[1] = True
            self.s.active.append(conn)
            return conn
        conn = psycopg2.connect(self.dsn)
        st.app_connects += 1
        conn.set_isolation_level(RR)
        self.items.append([conn, True])
        self.s.active.append(conn)
        return conn

    def give_back(self, conn):
        """Odoo's Cursor.close(): rollback (nothing is sent if idle), then back to the pool."""
        ok = not conn.closed
        if ok:
            try:
                self.s.rollback(conn)
            except Exception as e:
                self.s.stats.err("giveback-rollback", e)
                ok = False
        self.s.check_stray(conn)
        try:
            self.s.active.remove(conn)
        except ValueError:
            pass
        for it in self.items:
            if it[0] is conn:
                if ok and len(self.items) <= self.maxconn:
                    it[1] = False
                else:
                    self.items.remove(it)
                    self.s.close(conn)
                break
        else:
            self.s.close(conn)

    def close_all(self):
        for conn, _ in self.items:
            self.s.close(conn)
        self.items = []


# --------------------------------------------------------------------------------------------------
# the workload


class Run:
    def __init__(self, args):
        self.args = args
        pid_name = "odoo-%d" % os.getpid()
        self.app_dsn = normalize_dsn(args.app_dsn, app_name=pid_name, connect_timeout=args.connect_timeout)
        pg_src = args.postgres_dsn or args.app_dsn
        self.pg_dsn = normalize_dsn(pg_src, dbname=None if args.postgres_dsn else "postgres", app_name=pid_name,
                                    connect_timeout=args.connect_timeout)
        self.app_dbname = ext.parse_dsn(self.app_dsn).get("dbname", "odoo")
        self.token = uuid.uuid4().hex[:12]
        self.stop = threading.Event()
        self.bus_stop = threading.Event()
        self.bus_ready = threading.Event()
        self.deadline = None
        self.threads = []  # (thread, stats, active connections)
        # bus listener state
        self.bus_stats = Stats()
        self.bus_received = set()
        self.bus_dup = 0
        self.bus_foreign = 0
        self.bus_delays = []
        self.bus_connects = 0
        self.bus_lock = threading.Lock()

    # ---- HTTP worker -------------------------------------------------------------------------
    def worker(self, wid, stats, active):
        s = Session(stats, active)
        pool = ConnectionPool(self.app_dsn, s)
        rnd = random.Random(self.args.seed * 1000 + wid if self.args.seed is not None else None)
        n = 0
        while not self.stop.is_set() and time.perf_counter() < self.deadline:
            n += 1
            t0 = time.perf_counter()
            ok = self.request(s, pool, rnd, wid, n)
            if ok:
                stats.latencies.append(time.perf_counter() - t0)
                stats.requests += 1
            else:
                stats.failed += 1
                time.sleep(0.05)  # do not spin on a dead target
        pool.close_all()

    def request(self, s, pool, rnd, wid, n):
        used = []
        try:
            if self.args.dbfilter:
                self.db_list(s)
            # registry.check_signaling()
            a = pool.borrow()
            used.append(a)
            s.execute(a, SIGNALING_QUERY)
            s.rollback(a)
            # the request cursor, while A is still held
            b = pool.borrow()
            used.append(b)
            notify = self.args.notify_every > 0 and n % self.args.notify_every == 0
            self.retrying(s, b, rnd, n, notify)
            if notify:  # bus post-commit hook: a third connection while A and B are held
                self.send_notify(s, rnd, wid, n)
            # a third pooled cursor (session token check), sometimes twice
            for k in range(2 if n % 2 == 0 else 1):
                c = pool.borrow()
                used.append(c)
                self.session_check(s, c, rnd)
                s.rollback(c)
                if k == 0 and n % 2 == 0:
                    used.remove(c)
                    pool.give_back(c)
            return True
        except Exception as e:
            s.stats.err("request", e)
            return False
        finally:
            for conn in reversed(used):
                pool.give_back(conn)

    def db_list(self, s):
        conn = None
        try:
            conn = s.connect(self.pg_dsn)
            s.stats.pg_connects += 1
            conn.set_isolation_level(RR)
            s.execute(conn, DB_LIST_QUERY, (("postgres", "template0"),))
            s.rollback(conn)
        finally:
            if conn is not None:
                s.close(conn)

    def session_check(self, s, c, rnd):
        uid = rnd.randint(1, N_USERS)
        s.execute(c, "SELECT id, login, password, active, totp_secret, (SELECT value FROM ir_config_parameter"
                     " WHERE key='database.secret') FROM res_users WHERE id=%s", (uid,))

    def retrying(self, s, b, rnd, n, notify):
        """odoo.service.model.retrying(): the request transaction, retried on concurrency errors."""
        for tryno in range(1, MAX_TRIES + 1):
            try:
                self.rpc(s, b, rnd, n, notify)
                break
            except psycopg2.OperationalError as e:
                if b.closed or getattr(e, "pgcode", None) not in CONCURRENCY_ERRORS or tryno == MAX_TRIES:
                    raise
                s.rollback(b)
                s.stats.retries += 1
                remaining = max(0.0, self.deadline + 2.0 - time.perf_counter())
                time.sleep(min(rnd.uniform(0.0, 2 ** tryno), remaining))
        s.commit(b)

    def rpc(self, s, b, rnd, n, notify):
        uid = rnd.randint(1, N_USERS)
        s.execute(b, "SELECT (now() AT TIME ZONE 'UTC')")
        s.execute(b, 'SELECT "res_users"."id", "res_users"."login", "res_users"."active", "res_users"."company_id",'
                     ' "res_users"."partner_id", "res_users"."share" FROM "res_users" WHERE "res_users".id IN %s',
                  ((uid,),))
        kind = n % 3
        if kind == 0:  # web_search_read on sale.order (list view)
            states = ("draft", "sent", "sale")
            offset = rnd.randrange(0, 2000, 80)
            where = '("sale_order"."state" IN %s) AND ("sale_order"."company_id" IN %s)'
            ids = [r[0] for r in s.execute(
                b, 'SELECT "sale_order"."id" FROM "sale_order" LEFT JOIN "res_partner" AS "sale_order__partner_id"'
                   ' ON ("sale_order"."partner_id" = "sale_order__partner_id"."id") WHERE ' + where +
                   ' ORDER BY "sale_order"."date_order" DESC, "sale_order"."id" DESC LIMIT 80 OFFSET %s',
                (states, (1,), offset))]
            s.execute(b, 'SELECT COUNT(*) FROM (SELECT FROM "sale_order" WHERE ' + where + ' LIMIT 10001) t',
                      (states, (1,)))
            if ids:
                rows = s.execute(b, 'SELECT "sale_order"."id", "sale_order"."name", "sale_order"."partner_id",'
                                    ' "sale_order"."date_order", "sale_order"."state", "sale_order"."amount_total",'
                                    ' "sale_order"."user_id", "sale_order"."company_id" FROM "sale_order"'
                                    ' WHERE "sale_order".id IN %s', (tuple(ids),))
                pids = tuple(sorted({r[2] for r in rows}))
                s.execute(b, 'SELECT "res_partner"."id", "res_partner"."complete_name", "res_partner"."email"'
                             ' FROM "res_partner" WHERE "res_partner".id IN %s', (pids,))
        elif kind == 1:  # web_read of one sale.order form with its lines and partner
            oid = rnd.randint(1, N_ORDERS)
            s.execute(b, 'SELECT "sale_order"."id", "sale_order"."name", "sale_order"."partner_id", "sale_order"."state",'
                         ' "sale_order"."date_order", "sale_order"."amount_untaxed", "sale_order"."amount_tax",'
                         ' "sale_order"."amount_total", "sale_order"."note", "sale_order"."write_date"'
                         ' FROM "sale_order" WHERE "sale_order".id IN %s', ((oid,),))
            line_ids = [r[0] for r in s.execute(
                b, 'SELECT "sale_order_line"."id" FROM "sale_order_line" WHERE ("sale_order_line"."order_id" IN %s)'
                   ' ORDER BY "sale_order_line"."order_id", "sale_order_line"."sequence", "sale_order_line"."id"',
                ((oid,),))]
            if line_ids:
                s.execute(b, 'SELECT "sale_order_line"."id", "sale_order_line"."name", "sale_order_line"."product_id",'
                             ' "sale_order_line"."product_uom_qty", "sale_order_line"."price_unit",'
                             ' "sale_order_line"."price_subtotal" FROM "sale_order_line"'
                             ' WHERE "sale_order_line".id IN %s', (tuple(line_ids),))
            s.execute(b, 'SELECT p."id", p."complete_name", p."street", p."city", p."zip", c."complete_name"'
                         ' FROM "sale_order" o JOIN "res_partner" p ON p."id" = o."partner_id"'
                         ' LEFT JOIN "res_partner" c ON c."id" = p."parent_id" WHERE o."id" = %s', (oid,))
        else:  # name_search on res.partner + read_group of their orders
            needle = "%" + "".join(rnd.choice("0123456789abcdef") for _ in range(2)) + "%"
            pids = [r[0] for r in s.execute(
                b, 'SELECT "res_partner"."id" FROM "res_partner" WHERE (("res_partner"."active" = TRUE) AND'
                   ' ("res_partner"."complete_name"::text ILIKE %s)) ORDER BY "res_partner"."complete_name" ASC,'
                   ' "res_partner"."id" DESC LIMIT 8', (needle,))]
            if pids:
                s.execute(b, 'SELECT "sale_order"."partner_id", COUNT(*), SUM("sale_order"."amount_total")'
                             ' FROM "sale_order" JOIN "res_partner" ON "res_partner"."id" = "sale_order"."partner_id"'
                             ' WHERE "res_partner"."id" IN %s OR "res_partner"."parent_id" IN %s'
                             ' GROUP BY "sale_order"."partner_id" ORDER BY "sale_order"."partner_id"',
                          (tuple(pids), tuple(pids)))
        # the write: a savepoint (e.g. mail tracking), one row updated as Odoo 17 flushes it
        sp = str(uuid.uuid1())
        s.execute(b, 'SAVEPOINT "%s"' % sp)
        if n % 2:
            s.execute(b, 'UPDATE "res_partner" SET "comment" = "__tmp"."comment"::text, "write_date" ='
                         ' "__tmp"."write_date"::timestamp, "write_uid" = "__tmp"."write_uid"::int4 FROM (VALUES'
                         ' (%s, %s, (now() AT TIME ZONE \'UTC\'), %s)) AS "__tmp"("id", "comment", "write_date",'
                         ' "write_uid") WHERE "res_partner"."id" = "__tmp"."id"',
                      (rnd.randint(1, N_PARTNERS), "note %d" % n, uid))
        else:
            s.execute(b, 'UPDATE "sale_order" SET "note" = "__tmp"."note"::text, "write_date" ='
                         ' "__tmp"."write_date"::timestamp, "write_uid" = "__tmp"."write_uid"::int4 FROM (VALUES'
                         ' (%s, %s, (now() AT TIME ZONE \'UTC\'), %s)) AS "__tmp"("id", "note", "write_date",'
                         ' "write_uid") WHERE "sale_order"."id" = "__tmp"."id"',
                      (rnd.randint(1, N_ORDERS), "<p>note %d</p>" % n, uid))
        s.execute(b, 'RELEASE SAVEPOINT "%s"' % sp)
        if n % 10 == 0:  # ir.sequence next_by_code('sale.order')
            s.execute(b, "SELECT id, number_next, implementation, padding, prefix FROM ir_sequence"
                         " WHERE code=%s AND active AND (company_id = %s OR company_id IS NULL)"
                         " ORDER BY company_id LIMIT 1", ("sale.order", 1))
            s.execute(b, "SELECT nextval('ir_sequence_001')")
        if notify:  # bus.bus._sendone: the message row, the NOTIFY is sent after commit
            s.execute(b, 'INSERT INTO "bus_bus" ("channel", "message", "create_uid", "create_date", "write_uid",'
                         ' "write_date") VALUES (%s, %s, %s, (now() AT TIME ZONE \'UTC\'), %s,'
                         ' (now() AT TIME ZONE \'UTC\')) RETURNING "id"',
                      (json.dumps([self.app_dbname, "res.partner", uid]),
                       json.dumps({"type": "bench", "payload": n}), uid, uid))

    def send_notify(self, s, rnd, wid, n):
        conn = None
        payload = json.dumps([[self.app_dbname, "res.partner", rnd.randint(1, N_PARTNERS)],
                              {"bench": self.token, "id": "%d-%d" % (wid, n), "ts": time.time()}])
        try:
            conn = s.connect(self.pg_dsn)
            s.stats.pg_connects += 1
            conn.set_isolation_level(RR)
            s.execute(conn, 'SELECT "pg_notify"(\'imbus\', %s)', (payload,))
            s.commit(conn)
            s.stats.notify_sent += 1
        except Exception:
            s.stats.notify_failed += 1
            raise
        finally:
            if conn is not None:
                s.close(conn)

    # ---- cron ----------------------------------------------------------------------------------
    def cron(self, cid, stats, active):
        s = Session(stats, active)
        pool = ConnectionPool(self.app_dsn, s)
        rnd = random.Random(None if self.args.seed is None else self.args.seed * 7919 + cid)
        while not self.stop.is_set() and time.perf_counter() < self.deadline:
            conn = None
            try:
                conn = pool.borrow("cron-borrow")
                t0 = time.perf_counter()
                try:
                    rows = s.execute(conn, "SELECT id, uuid, model_name, method_name, records FROM queue_job"
                                           " WHERE state = 'pending' AND (eta IS NULL OR eta <= (now() AT TIME ZONE 'UTC'))"
                                           " ORDER BY priority, date_created, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED")
                except psycopg2.extensions.TransactionRollbackError:
                    # another cron committed that job after our snapshot (REPEATABLE READ): skip, like Odoo
                    stats.cron_conflicts += 1
                    continue
                if not rows:
                    stats.cron_empty += 1
                    s.rollback(conn)
                    time.sleep(0.2)
                    continue
                job_id, _uuid, _model, _method, records = rows[0]
                s.execute(conn, "UPDATE queue_job SET state = 'started', date_started = (now() AT TIME ZONE 'UTC'),"
                                " worker_pid = %s WHERE id = %s", (os.getpid(), job_id))
                hold = rnd.uniform(1.0, 2.0)
                steps = 5
                for step in range(steps):
                    if self.stop.is_set():
                        break
                    time.sleep(hold / steps)
                    oid = rnd.randint(1, N_ORDERS)
                    s.execute(conn, 'SELECT "sale_order_line"."id", "sale_order_line"."price_subtotal" FROM'
                                    ' "sale_order_line" WHERE "sale_order_line"."order_id" = %s', (oid,))
                    s.execute(conn, "UPDATE queue_job SET result = %s, write_date = (now() AT TIME ZONE 'UTC')"
                                    " WHERE id = %s", ("step %d/%d order %d" % (step + 1, steps, oid), job_id))
                s.execute(conn, "UPDATE queue_job SET state = 'done', date_done = (now() AT TIME ZONE 'UTC')"
                                " WHERE id = %s", (job_id,))
                s.execute(conn, "INSERT INTO queue_job (uuid, name, model_name, method_name, records, state, priority,"
                                " channel, date_created, date_enqueued) VALUES (%s, %s, 'sale.order',"
                                " '_cron_recompute', %s, 'pending', 10, 'root', (now() AT TIME ZONE 'UTC'),"
                                " (now() AT TIME ZONE 'UTC'))", (uuid.uuid4().hex, "Recompute again", records))
                s.commit(conn)
                stats.cron_claimed += 1
                stats.cron_holds.append(time.perf_counter() - t0)
            except Exception as e:
                stats.err("cron", e)
                time.sleep(0.1)
            finally:
                if conn is not None:
                    pool.give_back(conn)
        pool.close_all()

    # ---- bus -----------------------------------------------------------------------------------
    def bus(self):
        st = self.bus_stats
        while not self.bus_stop.is_set():
            conn = None
            try:
                conn = psycopg2.connect(self.pg_dsn)
                self.bus_connects += 1
                conn.autocommit = True
                cur = conn.cursor()
                cur.execute("LISTEN imbus")
                cur.close()
                self.bus_ready.set()
                while not self.bus_stop.is_set():
                    r, _, _ = select.select([conn], [], [], 0.2)
                    if not r:
                        continue
                    conn.poll()
                    now = time.time()
                    while conn.notifies:
                        self.on_notify(conn.notifies.pop(0), now)
            except Exception as e:
                st.err("bus", e)
                self.bus_ready.set()
                self.bus_stop.wait(0.5)
            finally:
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass

    def on_notify(self, notify, now):
        try:
            data = json.loads(notify.payload)
            meta = data[-1] if isinstance(data, list) and data and isinstance(data[-1], dict) else {}
        except ValueError:
            meta = {}
        with self.bus_lock:
            if meta.get("bench") != self.token:
                self.bus_foreign += 1
            elif meta.get("id") in self.bus_received:
                self.bus_dup += 1
            else:
                self.bus_received.add(meta.get("id"))
                self.bus_delays.append(max(0.0, now - float(meta.get("ts", now))))

    # ---- orchestration -------------------------------------------------------------------------
    def spawn(self, name, target, *args):
        stats, active = Stats(), []
        t = threading.Thread(target=self.guard, name=name, args=(target, stats, active) + args, daemon=True)
        self.threads.append((t, stats, active))
        return t

    @staticmethod
    def guard(target, stats, active, *args):
        try:
            target(*args, stats, active)
        except Exception as e:  # should not happen: keep the thread's stats anyway
            stats.err("thread", e)

    def run(self):
        a = self.args
        print("== odoo_workload %s: app=%s postgres=%s" % (a.label, masked(self.app_dsn), masked(self.pg_dsn)))
        print("   duration %ss, %d workers, %d crons, dbfilter %s, notify every %d requests" % (
            a.duration, a.workers, a.crons, "on" if a.dbfilter else "off", a.notify_every), flush=True)
        bus_thread = threading.Thread(target=self.bus, name="bus", daemon=True)
        bus_thread.start()
        self.bus_ready.wait(min(3.0, a.connect_timeout + 1))
        t_start = time.perf_counter()
        self.deadline = t_start + a.duration
        # last resort, independent of the GIL: dump the threads and _exit(1)
        faulthandler.dump_traceback_later(a.duration + 12.0 + a.bus_wait, exit=True)
        for i in range(a.crons):
            self.spawn("cron-%d" % i, self.cron, i)
        for i in range(a.workers):
            self.spawn("worker-%d" % i, self.worker, i)
        for t, _, _ in self.threads:
            t.start()
        try:
            while time.perf_counter() < self.deadline:
                time.sleep(min(0.2, max(0.0, self.deadline - time.perf_counter())))
        except KeyboardInterrupt:
            print("interrupted, stopping", file=sys.stderr)
        self.stop.set()
        # let requests and cron transactions in flight finish, then cancel what is still stuck
        grace_end = time.perf_counter() + 4.0
        for t, _, _ in self.threads:
            t.join(max(0.0, grace_end - time.perf_counter()))
        stuck = [(t, active) for t, _, active in self.threads if t.is_alive()]
        for t, active in stuck:
            for conn in list(active):
                self.kill_socket(conn)
        cancel_end = time.perf_counter() + 1.5
        for t, _ in stuck:
            t.join(max(0.0, cancel_end - time.perf_counter()))
        t_end = time.perf_counter()
        still_stuck = sum(1 for t, _, _ in self.threads if t.is_alive())
        # give the bus a moment to deliver what was sent
        bus_end = time.perf_counter() + a.bus_wait
        while time.perf_counter() < bus_end:
            total_sent = sum(st.notify_sent for _, st, _ in self.threads)
            with self.bus_lock:
                if len(self.bus_received) >= total_sent:
                    break
            time.sleep(0.05)
        self.bus_stop.set()
        bus_thread.join(1.0)
        faulthandler.cancel_dump_traceback_later()
        total = Stats()
        for _, st, _ in self.threads:
            total.merge(st)
        total.merge(self.bus_stats)
        return self.report(total, t_end - t_start, len(stuck), still_stuck)

    @staticmethod
    def kill_socket(conn):
        """Unblock a thread waiting in libpq: shut the socket down (no round trip, GIL-friendly)."""
        try:
            if not conn.closed:
                sock = socket.fromfd(conn.fileno(), socket.AF_INET, socket.SOCK_STREAM)  # a dup
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                finally:
                    sock.close()
        except Exception:
            pass

    def report(self, t, elapsed, stuck, still_stuck):
        a = self.args
        lat = sorted(t.latencies)
        with self.bus_lock:
            received = len(self.bus_received)
            dup, foreign = self.bus_dup, self.bus_foreign
            delays = sorted(self.bus_delays)
        errors_total = sum(t.errors.values())
        reqs = t.requests
        bus_errors = sum(v for k, v in t.errors.items() if k.startswith("bus:"))
        cron_errors = sum(v for k, v in t.errors.items() if k.startswith("cron"))
        res = {
            "label": a.label,
            "app_dsn": masked(self.app_dsn),
            "postgres_dsn": masked(self.pg_dsn),
            "duration_s": a.duration,
            "elapsed_s": round(elapsed, 3),
            "workers": a.workers,
            "crons": a.crons,
            "dbfilter": bool(a.dbfilter),
            "requests": reqs,
            "failed_requests": t.failed,
            "requests_per_s": round(reqs / elapsed, 2) if elapsed > 0 else None,
            "latency_ms": {
                "p50": ms(percentile(lat, 50)), "p90": ms(percentile(lat, 90)), "p99": ms(percentile(lat, 99)),
                "max": ms(lat[-1] if lat else None), "mean": ms(sum(lat) / len(lat) if lat else None),
            },
            "queries": t.queries,
            "queries_per_request": round(t.queries / (reqs + t.failed), 2) if reqs + t.failed else None,
            "discard_all": t.discards,
            "connections_opened": {"app": t.app_connects, "postgres": t.pg_connects, "bus": self.bus_connects},
            "serialization_retries": t.retries,
            "errors": errors_total,
            "error_breakdown": dict(t.errors.most_common(12)),
            "notifications": {
                "sent": t.notify_sent, "send_failed": t.notify_failed, "received": received,
                "missing": max(0, t.notify_sent - received), "duplicates": dup, "foreign": foreign,
                "stray_on_other_connections": t.stray, "listener_errors": bus_errors,
                "listener_connects": self.bus_connects,
                "delivery_ms_p50": ms(percentile(delays, 50)), "delivery_ms_p99": ms(percentile(delays, 99)),
            },
            "cron": {
                "jobs_claimed": t.cron_claimed, "empty_polls": t.cron_empty, "conflicts": t.cron_conflicts,
                "errors": cron_errors,
                "txn_hold_ms_p50": ms(percentile(sorted(t.cron_holds), 50)),
            },
            "stuck_threads_unblocked": stuck,
            "stuck_threads_left": still_stuck,
        }
        lm = res["latency_ms"]
        n = res["notifications"]
        print("-- results (%s) --" % a.label)
        print("requests     %d ok, %d failed in %.1f s -> %s req/s" % (reqs, t.failed, elapsed, res["requests_per_s"]))
        print("latency ms   p50 %s  p90 %s  p99 %s  max %s  mean %s" % (lm["p50"], lm["p90"], lm["p99"], lm["max"], lm["mean"]))
        print("queries      %d Query messages (%s per request), %d DISCARD ALL; connections opened: app %d,"
              " postgres %d, bus %d" % (t.queries, res["queries_per_request"], t.discards, t.app_connects,
                                        t.pg_connects, self.bus_connects))
        print("errors       %d (serialization retries %d)" % (errors_total, t.retries))
        for k, v in t.errors.most_common(12):
            print("  %6d x %s" % (v, k))
        print("bus          notifications sent %d (send failed %d), received %d, missing %d, duplicates %d,"
              " foreign %d, stray on other connections %d, listener errors %d; delivery p50 %s ms p99 %s ms" % (
                  n["sent"], n["send_failed"], received, n["missing"], dup, foreign, t.stray, bus_errors,
                  n["delivery_ms_p50"], n["delivery_ms_p99"]))
        print("cron         jobs claimed %d, empty polls %d, conflicts %d, errors %d, transaction held p50 %s ms" % (
            t.cron_claimed, t.cron_empty, t.cron_conflicts, cron_errors, res["cron"]["txn_hold_ms_p50"]))
        if stuck:
            print("watchdog     %d threads still busy after the grace period had their sockets shut down, %d still busy" % (stuck, still_stuck))
        if a.json:
            print(json.dumps(res, sort_keys=False))
        sys.stdout.flush()
        return 0 if reqs > 0 else 1


# --------------------------------------------------------------------------------------------------


def setup(args):
    dsn = normalize_dsn(args.app_dsn, connect_timeout=args.connect_timeout)
    params = {"partners": N_PARTNERS, "orders": N_ORDERS, "lines": N_LINES, "users": N_USERS, "jobs": N_JOBS}
    t0 = time.perf_counter()
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        for stmt in SETUP_DDL + SETUP_SEQUENCES:
            cur.execute(stmt)
        for stmt in SETUP_DATA:
            cur.execute(stmt, params)
        conn.commit()  # one transaction: a failed setup leaves nothing half-filled
        conn.autocommit = True
        for t in ("res_company", "res_partner", "res_users", "ir_config_parameter", "sale_order",
                  "sale_order_line", "queue_job", "bus_bus", "ir_sequence"):
            cur.execute("ANALYZE %s" % t)
        counts = {}
        for t in ("res_partner", "sale_order", "sale_order_line", "queue_job", "res_users"):
            cur.execute("SELECT count(*) FROM %s" % t)
            counts[t] = cur.fetchone()[0]
    finally:
        conn.close()
    print("setup done in %.1f s on %s: %s" % (time.perf_counter() - t0, masked(dsn),
                                              ", ".join("%s %d" % kv for kv in counts.items())))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description="Odoo 17-like psycopg2 load generator (see the module docstring).")
    p.add_argument("--app-dsn", required=True, help="libpq DSN of the application database")
    p.add_argument("--postgres-dsn", help="DSN of database postgres on the same target (bus, dbfilter);"
                                          " default: the app DSN with dbname=postgres")
    p.add_argument("--setup", action="store_true", help="create and fill the schema in the app database, then exit")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load (default 20)")
    p.add_argument("--workers", type=int, default=8, help="HTTP worker threads (default 8)")
    p.add_argument("--crons", type=int, default=1, help="cron worker threads (default 1)")
    p.add_argument("--dbfilter", action="store_true",
                   help="every request also opens and closes a connection to the postgres DSN")
    p.add_argument("--notify-every", type=int, default=5, help="send a bus notification every N requests (0: never)")
    p.add_argument("--bus-wait", type=float, default=2.0, help="seconds to wait for late notifications (default 2)")
    p.add_argument("--connect-timeout", type=int, default=5, help="connect_timeout added to DSNs lacking one")
    p.add_argument("--seed", type=int, help="random seed (default: unseeded)")
    p.add_argument("--label", default="run", help="a label echoed in the output")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object on the last line")
    args = p.parse_args(argv)
    if args.setup:
        return setup(args)
    if args.workers < 0 or args.crons < 0 or args.duration <= 0:
        p.error("--workers/--crons must be >= 0 and --duration > 0")
    return Run(args).run()


if __name__ == "__main__":
    try:
        rc = main()
    except psycopg2.Error as e:
        print("error: %s" % error_key("main", e), file=sys.stderr)
        rc = 2
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)  # do not wait for daemon threads stuck in libpq

#!/usr/bin/env bash
# Makes sure the services the tests use answer on loopback: Postgres 5432, RabbitMQ 5672, Redis 6379.
# They are started before every session and CI run on this kind of machine; this starts any that stopped
# (with the machine's own commands) and waits for it, so a run never depends on how the last one ended.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name port seconds
  for _ in $(seq 1 "$3"); do up "$2" && return 0; sleep 1; done
  echo "ensure-services: $1 (port $2) is not answering" >&2
  return 1
}

if ! up 5432; then
  echo "ensure-services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 6379; then
  echo "ensure-services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
if ! up 5672; then
  echo "ensure-services: starting RabbitMQ"
  (rabbitmq-server -detached || rabbitmqctl start_app) >/dev/null 2>&1 || true
  # A broker whose node runs but whose app was stopped (e.g. by an interrupted test) needs start_app.
  sleep 2; up 5672 || rabbitmqctl start_app >/dev/null 2>&1 || true
fi
wait_for PostgreSQL 5432 60 && wait_for Redis 6379 30 && wait_for RabbitMQ 5672 120

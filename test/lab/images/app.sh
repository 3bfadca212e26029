#!/bin/sh
# The stand-in service that every lab image runs (busybox sh and httpd, nothing else).
#
# It serves /www over HTTP on $PORT: /health (body "ok") once the service counts as healthy,
# /version (baked in at build time) and, for the db, /log (the volume's /data/log).
# LAB_MODE, baked into each image, picks the behaviour; SLOW_SECONDS and CRASH_AFTER may be
# overridden per container (compose `environment:`).
set -eu
: "${APP_NAME:=app}" "${PORT:=80}" "${LAB_MODE:=normal}" "${SLOW_SECONDS:=8}" "${CRASH_AFTER:=5}"

# sh runs as PID 1 here, and PID 1 ignores every signal it has no handler for: without this
# trap `docker stop` would wait out its whole timeout and then SIGKILL the container.
# Long waits below run in the background + `wait`, so that the trap fires at once.
trap 'exit 0' TERM INT

log() { echo "$APP_NAME $(cat /www/version) [$LAB_MODE]: $*"; }
healthy() { echo ok >/www/health; }

case "$LAB_MODE" in
normal | flaky) healthy ;;
crash)
  log "exiting with status 1 at start" >&2
  exit 1
  ;;
unhealthy) log "serving without /health: the health check never passes" ;;
slow)
  log "healthy in ${SLOW_SECONDS}s"
  (sleep "$SLOW_SECONDS" && healthy) &
  ;;
db)
  # One line per start, so a test can tell that the named volume outlived a container.
  touch /data/log
  echo "start $(($(wc -l </data/log) + 1)) $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>/data/log
  ln -sf /data/log /www/log
  healthy
  ;;
*)
  log "unknown LAB_MODE" >&2
  exit 2
  ;;
esac

httpd -f -p "$PORT" -h /www &
httpd_pid=$!
log "serving on port $PORT"

if [ "$LAB_MODE" = flaky ]; then
  sleep "$CRASH_AFTER" &
  wait $!
  log "exiting with status 1 after ${CRASH_AFTER}s" >&2
  exit 1
fi
wait "$httpd_pid"

# Redis for the temporary part state (rule O1): private servers under
# $FILEDC_TEST_TMP on free loopback ports, stopped when the tests end. They
# keep an append-only file, as a production setup would, so a restart loses
# nothing. One is shared by the tests (FILEDC_TEST_REDIS, a URL for --redis);
# the other is restarted by the fault test (FILEDC_TEST_FAULT_REDIS). Each VAR
# comes with VAR_CTL, a script taking start or stop.
apt_install redis-server

# start_redis NAME VAR: a server in $FILEDC_TEST_TMP/NAME; exports VAR and VAR_CTL.
start_redis() {
  local dir=$FILEDC_TEST_TMP/$1 port
  port=$(free_port)
  mkdir -p "$dir"
  cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
protected-mode yes
dir $dir
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
save ""
appendonly yes
appendfsync everysec
CONF
  cat >"$dir/ctl" <<CTL
#!/usr/bin/env bash
# start | stop the test server
set -e
case "\$1" in
start)
  redis-server "$dir/redis.conf"
  for _ in \$(seq 100); do
    redis-cli -h 127.0.0.1 -p $port ping 2>/dev/null | grep -q PONG && exit 0
    sleep 0.1
  done
  echo "redis did not start; see $dir/redis.log" >&2; exit 1 ;;
stop)
  redis-cli -h 127.0.0.1 -p $port shutdown >/dev/null 2>&1 || true
  for _ in \$(seq 100); do
    [ -e "$dir/redis.pid" ] || exit 0
    sleep 0.1
  done ;;
*) echo "usage: \$0 start|stop" >&2; exit 2 ;;
esac
CTL
  chmod +x "$dir/ctl"
  "$dir/ctl" start
  on_exit "'$dir/ctl' stop"
  export "$2=redis://127.0.0.1:$port/0"
  export "$2_CTL=$dir/ctl"
}
start_redis redis FILEDC_TEST_REDIS
start_redis redis-fault FILEDC_TEST_FAULT_REDIS

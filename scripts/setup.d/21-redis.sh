# Redis for the temporary part state (rule O1): a private server under
# $FILEDC_TEST_TMP on a free loopback port, stopped when the tests end. It
# keeps an append-only file, as a production setup would, so a restart loses
# nothing. Exports FILEDC_TEST_REDIS (a URL for --redis) and
# FILEDC_TEST_REDIS_CTL (a script taking start or stop, for fault tests).
apt_install redis-server
redis_dir=$FILEDC_TEST_TMP/redis
redis_port=$(free_port)
mkdir -p "$redis_dir"
cat >"$redis_dir/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
protected-mode yes
dir $redis_dir
daemonize yes
pidfile $redis_dir/redis.pid
logfile $redis_dir/redis.log
save ""
appendonly yes
appendfsync everysec
CONF
cat >"$redis_dir/ctl" <<CTL
#!/usr/bin/env bash
# start | stop the test server
set -e
case "\$1" in
start)
  redis-server "$redis_dir/redis.conf"
  for _ in \$(seq 100); do
    redis-cli -h 127.0.0.1 -p $redis_port ping 2>/dev/null | grep -q PONG && exit 0
    sleep 0.1
  done
  echo "redis did not start; see $redis_dir/redis.log" >&2; exit 1 ;;
stop)
  redis-cli -h 127.0.0.1 -p $redis_port shutdown >/dev/null 2>&1 || true
  for _ in \$(seq 100); do
    [ -e "$redis_dir/redis.pid" ] || exit 0
    sleep 0.1
  done ;;
*) echo "usage: \$0 start|stop" >&2; exit 2 ;;
esac
CTL
chmod +x "$redis_dir/ctl"
"$redis_dir/ctl" start
on_exit "'$redis_dir/ctl' stop"
export FILEDC_TEST_REDIS="redis://127.0.0.1:$redis_port/0"
export FILEDC_TEST_REDIS_CTL=$redis_dir/ctl

# PostgreSQL for the metadata backend (rule O1): a private cluster under
# $FILEDC_TEST_TMP on a free loopback port, stopped when the tests end.
# Exports FILEDC_TEST_POSTGRES (a URL for --postgres) and
# FILEDC_TEST_POSTGRES_CTL (a script taking start or stop, for fault tests).
apt_install postgresql
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg_dir=$FILEDC_TEST_TMP/postgres
pg_port=$(free_port)
# PostgreSQL refuses to run as root: the cluster belongs to the postgres user,
# who must be able to reach it.
chmod o+x "$FILEDC_TEST_TMP"
mkdir -p "$pg_dir"
chown postgres:postgres "$pg_dir"
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-sync >"$pg_dir/initdb.log"
cat >"$pg_dir/ctl" <<CTL
#!/usr/bin/env bash
# start | stop the test cluster
set -e
case "\$1" in
start) runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -t 60 \
  -o "-h 127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c max_connections=300" start >/dev/null ;;
stop) runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -w -t 60 -m fast stop >/dev/null ;;
*) echo "usage: \$0 start|stop" >&2; exit 2 ;;
esac
CTL
chmod +x "$pg_dir/ctl"
"$pg_dir/ctl" start
on_exit "'$pg_dir/ctl' stop"
export FILEDC_TEST_POSTGRES="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
export FILEDC_TEST_POSTGRES_CTL=$pg_dir/ctl

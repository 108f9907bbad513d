# PostgreSQL for the metadata backend (rule O1): private clusters under
# $FILEDC_TEST_TMP on free loopback ports, stopped when the tests end. One is
# shared by the tests (FILEDC_TEST_POSTGRES, a URL for --postgres); the other
# is restarted by the fault test (FILEDC_TEST_FAULT_POSTGRES), so that tests
# running meanwhile in other packages are not disturbed. Each VAR comes with
# VAR_CTL, a script taking start or stop.
apt_install postgresql
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
# PostgreSQL refuses to run as root: the clusters belong to the postgres user,
# who must be able to reach them.
chmod o+x "$FILEDC_TEST_TMP"

# start_postgres NAME VAR: a cluster in $FILEDC_TEST_TMP/NAME; exports VAR and VAR_CTL.
start_postgres() {
  local dir=$FILEDC_TEST_TMP/$1 port
  port=$(free_port)
  mkdir -p "$dir"
  chown postgres:postgres "$dir"
  runuser -u postgres -- "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log"
  cat >"$dir/ctl" <<CTL
#!/usr/bin/env bash
# start | stop the test cluster
set -e
case "\$1" in
start) runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
  -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=300" start >/dev/null ;;
stop) runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null ;;
*) echo "usage: \$0 start|stop" >&2; exit 2 ;;
esac
CTL
  chmod +x "$dir/ctl"
  "$dir/ctl" start
  on_exit "'$dir/ctl' stop"
  export "$2=postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  export "$2_CTL=$dir/ctl"
}
start_postgres postgres FILEDC_TEST_POSTGRES
start_postgres postgres-fault FILEDC_TEST_FAULT_POSTGRES

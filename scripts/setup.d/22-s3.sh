# S3-compatible object storage for the content backend (rule O1): versitygw
# with its posix backend, built from its Go module (a minute on first run,
# then kept in GOPATH/bin and reused while the pinned version matches), on a
# free loopback port with fixed test credentials, data under $FILEDC_TEST_TMP.
# Exports FILEDC_TEST_S3 in the form `filedc serve --s3` takes; tests add
# their own key prefix. The bucket is created by filedc when missing.
vgw_version=v1.8.0
vgw_bin=$(go env GOPATH)/bin/versitygw
if ! go version -m "$vgw_bin" 2>/dev/null | grep -q "mod[[:space:]]*github.com/versity/versitygw[[:space:]]*$vgw_version"; then
  echo "setup: building versitygw $vgw_version"
  GOBIN=$(dirname "$vgw_bin") GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$vgw_version"
fi
s3_dir=$FILEDC_TEST_TMP/s3
s3_port=$(free_port)
mkdir -p "$s3_dir/root"
ROOT_ACCESS_KEY=filedc-test ROOT_SECRET_KEY=filedc-test-secret \
  "$vgw_bin" --port "127.0.0.1:$s3_port" --quiet posix "$s3_dir/root" >"$s3_dir/log" 2>&1 &
s3_pid=$!
on_exit "kill $s3_pid; wait $s3_pid 2>/dev/null"
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break
  kill -0 "$s3_pid" 2>/dev/null || { echo "versitygw exited:"; cat "$s3_dir/log"; exit 1; }
  sleep 0.1
done
export FILEDC_TEST_S3="http://filedc-test:filedc-test-secret@127.0.0.1:$s3_port/filedc-test"

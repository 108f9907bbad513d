# gotd/td v0.150.0 (API layer 227) against a real filedc process. It lives in its
# own module (interop/gotd227) so that the main module keeps one gotd/td.
go build -o "$FILEDC_TEST_TMP/filedc" ./cmd/filedc
export FILEDC_TEST_BIN="$FILEDC_TEST_TMP/filedc"
(cd "$ROOT/interop/gotd227" && go vet ./... && go test -race -count=1 -timeout 20m ./...)

# Old gotd/td releases against a real filedc process, each pinned in a module of
# its own so that the main module keeps one gotd/td: v0.80.0 (API layer 158),
# v0.100.0 (178) and v0.150.0 (227). They share interop/gotdtest, which each
# builds against its own release.
go build -o "$FILEDC_TEST_TMP/filedc" ./cmd/filedc
export FILEDC_TEST_BIN="$FILEDC_TEST_TMP/filedc"
(cd "$ROOT/interop/gotdtest" && go vet ./...)
for m in gotd158 gotd178 gotd227; do
  echo "after: interop/$m"
  (cd "$ROOT/interop/$m" && go vet ./... && go test -race -count=1 -timeout 20m ./...)
done

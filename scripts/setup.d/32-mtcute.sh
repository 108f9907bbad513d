# mtcute (npm "@mtcute/node" 0.30.3, layer 227, pinned in
# interop/mtcute/package-lock.json) for the interop tests that run the real
# Node client against filedc. --ignore-scripts: the only install script is
# better-sqlite3's native build (for mtcute's SqliteStorage); the scenarios use
# MemoryStorage, and mtcute loads the addon only when a SqliteStorage opens.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm
(cd "$ROOT/interop/mtcute" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
export FILEDC_TEST_MTCUTE="$ROOT/interop/mtcute"

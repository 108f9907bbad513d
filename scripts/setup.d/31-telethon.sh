# Telethon (Debian python3-telethon 1.25.1, layer 144) for the interop tests
# that run the real Python client against filedc (interop/telethon/filedc.py).
# Debian's python3 imports it; a python3 earlier on PATH (pyenv, a venv)
# may not, so the interpreter is looked for among both.
apt_install python3 python3-telethon
FILEDC_TEST_TELETHON=
for py in /usr/bin/python3 "$(command -v python3 || true)"; do
  if [ -x "$py" ] && "$py" -c 'import telethon, sys; sys.exit(telethon.__version__ != "1.25.1")' 2>/dev/null; then
    FILEDC_TEST_TELETHON=$py
    break
  fi
done
if [ -z "$FILEDC_TEST_TELETHON" ]; then
  echo "setup: no python3 imports telethon 1.25.1"; return 1
fi
export FILEDC_TEST_TELETHON

# Chromium (Debian's chromium) for the test that loads the status page in a
# real headless browser, driven by chromedp (internal/interop
# TestO3_StatusPageInChromium). Tests read its path from FILEDC_TEST_CHROMIUM.
apt_install chromium
FILEDC_TEST_CHROMIUM=$(command -v chromium || true)
if [ -z "$FILEDC_TEST_CHROMIUM" ]; then
  echo "setup: chromium is not on PATH after installing it"; return 1
fi
export FILEDC_TEST_CHROMIUM

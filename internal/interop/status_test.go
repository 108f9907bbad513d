package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gotd/td/tg"

	"github.com/filedc/filedc/internal/testenv"
)

// TestO3_StatusPageInChromium loads the status page in a real headless
// Chromium while a gotd client saves the parts of a big file slowly, and
// checks that the upload's part map fills in as the parts arrive, that the
// page shows the DC, its clients, layer, the last error and throughput,
// and that the finalized upload leaves the page. A screenshot taken
// half-way is kept in $FILEDC_TEST_ARTIFACTS (else the test's temporary
// directory).
func TestO3_StatusPageInChromium(t *testing.T) {
	chromium := testenv.Require(t, "FILEDC_TEST_CHROMIUM")
	httpAddr := freeHTTPAddr(t)
	const token = "status-token"
	srv := startServer(t, "--http", httpAddr, "--http-token", token)
	if code, _ := httpGet(t, "http://"+httpAddr+"/", ""); code != 401 {
		t.Errorf("/ without the token: %d, want 401", code)
	}
	if code, _ := httpGet(t, "http://"+httpAddr+"/api/status", ""); code != 401 {
		t.Errorf("/api/status without the token: %d, want 401", code)
	}

	const parts, partSize = 24, 32 << 10
	data := randomBytes(41, parts*partSize)
	shot := filepath.Join(t.TempDir(), "status-page.png")
	if dir := os.Getenv("FILEDC_TEST_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		shot = filepath.Join(dir, "status-page.png")
	}

	withBot(t, srv, botToken, func(ctx context.Context, api *tg.Client) error {
		// A deliberate error for the page's list.
		if _, err := api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: 5, FilePart: 0}); rpcErr(err) != "400 FILE_PART_EMPTY" {
			return fmt.Errorf("empty part: %s", rpcErr(err))
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium),
			chromedp.NoSandbox, chromedp.WindowSize(1100, 1300))
		actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
		defer cancel()
		bctx, cancel := chromedp.NewContext(actx)
		defer cancel()
		bctx, cancel = context.WithTimeout(bctx, 3*time.Minute)
		defer cancel()
		if err := chromedp.Do(bctx, chromedp.Navigate("http://"+httpAddr+"/?token="+token)); err != nil {
			return fmt.Errorf("loading the page: %w", err)
		}

		// Parts arrive one every 300 ms, evens first, then odds: the map
		// fills in with gaps.
		saver := make(chan error, 1)
		go func() {
			order := make([]int, 0, parts)
			for i := 0; i < parts; i += 2 {
				order = append(order, i)
			}
			for i := 1; i < parts; i += 2 {
				order = append(order, i)
			}
			for _, i := range order {
				if _, err := api.UploadSaveBigFilePart(ctx, &tg.UploadSaveBigFilePartRequest{FileID: 77, FilePart: i,
					FileTotalParts: parts, Bytes: data[i*partSize : (i+1)*partSize]}); err != nil {
					saver <- fmt.Errorf("saveBigFilePart %d: %w", i, err)
					return
				}
				time.Sleep(300 * time.Millisecond)
			}
			saver <- nil
		}()

		// The part map as the page draws it: present parts and the rects.
		read := func() (present, rects int, err error) {
			s, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => {
				const m = document.querySelector(".upload svg.parts");
				return m ? m.dataset.present + " " + m.querySelectorAll("rect").length : "";
			})()`))
			if err != nil || s == "" {
				return -1, 0, err
			}
			f := strings.Fields(s)
			present, _ = strconv.Atoi(f[0])
			rects, _ = strconv.Atoi(f[1])
			return present, rects, nil
		}
		var seen []int
		var gaps bool
		deadline := time.Now().Add(time.Minute)
		for {
			present, rects, err := read()
			if err != nil {
				return err
			}
			if present >= 0 && (len(seen) == 0 || present != seen[len(seen)-1]) {
				if len(seen) > 0 && present < seen[len(seen)-1] {
					return fmt.Errorf("the part map emptied: %v then %d", seen, present)
				}
				seen = append(seen, present)
				if rects > 1 {
					gaps = true // parts with holes between them
				}
				if present >= parts/2 && present < parts && !fileExists(shot) {
					png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
					if err != nil {
						return err
					}
					if err := os.WriteFile(shot, png, 0o644); err != nil {
						return err
					}
					t.Logf("status page screenshot (%d of %d parts): %s", present, parts, shot)
				}
			}
			if present == parts {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the part map showed %v, never all %d parts", seen, parts)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := <-saver; err != nil {
			return err
		}
		if len(seen) < 4 || !gaps {
			return fmt.Errorf("the part map went through %v (gaps %v): it should fill in step by step, with gaps", seen, gaps)
		}
		if !fileExists(shot) {
			return fmt.Errorf("no screenshot taken")
		}

		text, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			return err
		}
		title, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("h1")))
		if err != nil {
			return err
		}
		saved, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.ID("saved"), "points"))
		if err != nil {
			return err
		}
		points := saved.Value
		for _, want := range []string{"intermediate", strconv.Itoa(tg.Layer) + " (", "upload.saveFilePart", "FILE_PART_EMPTY",
			fmt.Sprintf("%d of %d parts", parts, parts)} {
			if !strings.Contains(text, want) {
				return fmt.Errorf("the page does not show %q:\n%s", want, text)
			}
		}
		if !strings.Contains(title, "DC 2") || strings.Count(points, ",") < 2 {
			return fmt.Errorf("title %q, throughput points %q", title, points)
		}
		if strings.Contains(text, "7000001") || strings.Contains(text, " 77 ") {
			return fmt.Errorf("the page shows an account or file id:\n%s", text)
		}

		// Finalized, the upload leaves the page.
		if _, err := uploadDoc(ctx, api, &tg.InputFileBig{ID: 77, Parts: parts, Name: "big.bin"}); err != nil {
			return fmt.Errorf("finalizing: %w", err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll(".upload").length`))
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the finalized upload is still shown")
			}
		}
	})
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

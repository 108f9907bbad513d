package status

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/filedc/filedc/internal/metrics"
)

// TestO3_StatusToken: with a token, the page, its JSON and its assets
// answer 401 without it and serve it given as a bearer token, as ?token=
// or in the cookie ?token= sets; the JSON has the page's sections.
func TestO3_StatusToken(t *testing.T) {
	mux := http.NewServeMux()
	New(Config{DC: 3, Backends: "disk", Monitor: metrics.New(3, "test"), Token: "tok"}).Mount(mux)
	get := func(path string, edit func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		if edit != nil {
			edit(r)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	for _, path := range []string{"/", "/api/status", "/static/status.js"} {
		if c := get(path, nil).Code; c != 401 {
			t.Errorf("%s without the token: %d", path, c)
		}
		if c := get(path, func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }).Code; c != 401 {
			t.Errorf("%s with a wrong token: %d", path, c)
		}
		if c := get(path, func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok") }).Code; c != 200 {
			t.Errorf("%s with a bearer token: %d", path, c)
		}
	}
	w := get("/?token=tok", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "DC 3") {
		t.Fatalf("/?token=: %d %s", w.Code, w.Body)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly {
		t.Fatalf("cookies set: %v", cookies)
	}
	w = get("/api/status", func(r *http.Request) { r.AddCookie(cookies[0]) })
	var st map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &st); w.Code != 200 || err != nil {
		t.Fatalf("/api/status with the cookie: %d %v", w.Code, err)
	}
	for _, k := range []string{"dc", "version", "backends", "connections", "layers", "uploads", "temp_bytes", "temp_budget", "errors", "saved_per_second"} {
		if _, ok := st[k]; !ok {
			t.Errorf("/api/status has no %q", k)
		}
	}
}

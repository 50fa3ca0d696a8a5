package web

import (
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// page renders a small HTML page, standing in for an application's handler.
var benchPage = template.Must(template.New("p").Parse(`<!DOCTYPE html><html lang="en"><title>Orders</title>
<h1>Orders of {{.User}}</h1><ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul></html>`))

type benchData struct {
	User  string
	Items []string
}

var benchItems = []string{"order 1", "order 2", "order 3", "order 4", "order 5", "order 6", "order 7", "order 8"}

func benchApp(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = benchPage.Execute(w, benchData{User: State(r).UserID(), Items: benchItems})
}

func trivialApp(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }

// BenchmarkRequireVerified measures SPEC §11 row 2: an application handler
// behind Middleware+RequireVerified on a verified session, against the
// same handler without RequireVerified (Middleware alone, which every
// signed-in page needs to know its user) and without either.
//
//	go test -run '^$' -bench RequireVerified -cpu 2 ./web/
func BenchmarkRequireVerified(b *testing.B) {
	e, c, _, _ := verified(b)
	cookie := c.jar["twofactor_session"]
	for _, app := range []struct {
		name string
		h    http.HandlerFunc
	}{{"page", benchApp}, {"trivial", trivialApp}} {
		handlers := []struct {
			name string
			h    http.Handler
		}{
			{"bare", app.h},
			{"middleware", e.h.Middleware(app.h)},
			{"require_verified", e.h.Middleware(RequireVerified(RequireOptions{})(app.h))},
		}
		for _, hh := range handlers {
			b.Run(app.name+"/"+hh.name, func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req := httptest.NewRequest("GET", "/secret/", nil)
						req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
						rec := httptest.NewRecorder()
						hh.h.ServeHTTP(rec, req)
						if rec.Code != 200 {
							b.Fatalf("status %d", rec.Code)
						}
					}
				})
			})
		}
	}
}

// BenchmarkRequireVerifiedRatio runs the handlers in interleaved batches,
// so that a noisy machine slows all of them alike, and reports the
// throughput of the page behind RequireVerified as a share of the same
// page without it (rv/middleware: both read the session; rv/bare: the page
// with no session at all).
func BenchmarkRequireVerifiedRatio(b *testing.B) {
	e, c, _, _ := verified(b)
	cookie := c.jar["twofactor_session"]
	hs := []http.Handler{
		http.HandlerFunc(benchApp),
		e.h.Middleware(http.HandlerFunc(benchApp)),
		e.h.Middleware(RequireVerified(RequireOptions{})(http.HandlerFunc(benchApp))),
	}
	var spent [3]time.Duration
	const batch = 50
	req := func() *http.Request {
		r := httptest.NewRequest("GET", "/secret/", nil)
		r.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		return r
	}
	b.ResetTimer()
	for n := 0; n < b.N; n += batch {
		for i, h := range hs {
			start := time.Now()
			for range batch {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req())
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
			spent[i] += time.Since(start)
		}
	}
	ops := float64((b.N + batch - 1) / batch * batch)
	b.ReportMetric(float64(spent[0].Nanoseconds())/ops, "ns/bare")
	b.ReportMetric(float64(spent[1].Nanoseconds())/ops, "ns/middleware")
	b.ReportMetric(float64(spent[2].Nanoseconds())/ops, "ns/rv")
	b.ReportMetric(100*float64(spent[1])/float64(spent[2]), "%rv/middleware")
	b.ReportMetric(100*float64(spent[0])/float64(spent[2]), "%rv/bare")
}

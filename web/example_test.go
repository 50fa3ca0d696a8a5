package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/store/sqlite"
	"github.com/twofactor/twofactor/web"
)

// An application adds the pages to its mux, protects its own pages with
// RequireVerified, and wraps everything with the middleware.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "twofactor-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "twofactor.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}
	hexKey, err := secret.GenerateKey(nil) // in production: the configured secret_key
	if err != nil {
		fmt.Println(err)
		return
	}
	key, err := secret.ParseKey(hexKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	keys, err := secret.NewKeyring(key)
	if err != nil {
		fmt.Println(err)
		return
	}
	svc, err := twofactor.New(twofactor.Config{Store: st, Keys: keys, Options: twofactor.DefaultOptions()})
	if err != nil {
		fmt.Println(err)
		return
	}

	pages, err := web.New(web.Config{Service: svc})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	if err := pages.Register(mux); err != nil {
		fmt.Println(err)
		return
	}
	reports := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "reports of "+web.State(r).UserID())
	})
	mux.Handle("GET /reports/", web.RequireVerified(web.RequireOptions{})(reports))
	app := pages.Middleware(mux)

	// An anonymous visitor is sent to sign in, and back afterwards.
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/reports/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output: 302 /account/login/?next=%2Freports%2F
}

package api_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/api"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/store/sqlite"
)

// The API mounted on a ServeMux next to an application's own routes, and a
// client signing in.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "twofactor-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		log.Fatal(err)
	}
	keys, err := secret.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	svc, err := twofactor.New(twofactor.Config{Store: st, Keys: keys, Options: twofactor.DefaultOptions()})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Builtin().Create(ctx, twofactor.NewUser{Username: "alice", Password: "correct horse battery"}); err != nil {
		log.Fatal(err)
	}

	a, err := api.New(api.Config{Service: svc, Issuer: "Example"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", a.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := http.Post(srv.URL+"/api/v1/login", "application/json",
		strings.NewReader(`{"username": "alice", "password": "correct horse battery"}`))
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		Token     string `json:"token"`
		TokenType string `json:"token_type"`
		MFA       bool   `json:"mfa"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.StatusCode, tok.TokenType, tok.MFA)
	// Output: 200 Bearer false
}

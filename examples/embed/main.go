// Command embed is an existing net/http application, with its own user
// table and its own password check, that adds two-factor authentication
// with twofactor. It is the program docs/EMBEDDING.md walks through.
//
//	go run ./examples/embed [-addr 127.0.0.1:8080] [-db embed.db]
//
// It keeps twofactor's tables in an SQLite file (-db, created when
// missing) and its secret key in EMBED_SECRET_KEY (64 hex characters, as
// `twofactor key generate` prints) or, when that is not set, in twofactor.key
// next to the database, generated on the first start. During a key
// rotation, EMBED_SECRET_KEYS_OLD lists the older keys, comma-separated.
//
// The application's users are alice (staff) and bob, with the passwords
// alice-password and bob-password. The two-factor pages are under
// /security/; /reports/ opens only to a session verified by a second
// factor. Clients that are not browsers use the JSON API at /api/v1/ and
// the OAuth2 endpoints at /oauth2/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	db := flag.String("db", "embed.db", "SQLite file of twofactor's tables (created when missing)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *db, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

// run serves the application on addr until ctx ends, after printing to out
// where to open it.
func run(ctx context.Context, addr, db string, out io.Writer) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := newApp(ctx, appConfig{DBPath: db, Log: log})
	if err != nil {
		return err
	}
	defer a.Close()
	cctx, stopCleanup := context.WithCancel(ctx)
	var cleaning sync.WaitGroup
	cleaning.Go(func() { a.cleanup(cctx, cleanupInterval) })
	defer func() { stopCleanup(); cleaning.Wait() }() // before the store closes
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "Open %s/ and sign in as alice (password alice-password) or bob (password bob-password).\n", base)
	fmt.Fprintf(out, "Two-factor pages: %s%s/account/two_factor/ — protected page: %s/reports/\n", base, securityPrefix, base)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Command twofactor is the two-factor authentication server and its
// management CLI: `twofactor serve` runs the site, and the other commands
// manage users, devices and the database. Run `twofactor help` for the list.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/twofactor/twofactor/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default behaviour so that a second
	// one ends the process at once, even during a slow graceful shutdown.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/server"
	"github.com/twofactor/twofactor/secret"
)

// setupServe: twofactor serve [--addr ADDR] [--log-format FORMAT].
func setupServe(fs *flag.FlagSet) runFunc {
	def := config.Default()
	fs.String("addr", def.Addr, "listen `ADDRESS`, host:port (key addr)")
	fs.String("log-format", def.LogFormat, "log `FORMAT`: auto (text on a terminal, JSON otherwise), text or json (key log_format)")
	return func(ctx context.Context, e *env) error {
		return server.Run(ctx, e.app, e.cfg.Addr, e.p.Ready)
	}
}

// versioner is implemented by the stores that can report their schema
// version (both built-in stores do).
type versioner interface {
	Version(ctx context.Context) (int, error)
}

// setupMigrate: twofactor migrate. Opening the application has applied the
// migrations already; this reports the resulting version.
func setupMigrate(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env) error {
		v, ok := e.app.Store.(versioner)
		if !ok {
			fmt.Fprintln(e.p.Stdout, "database schema is up to date")
			return nil
		}
		n, err := v.Version(ctx)
		if err != nil {
			return fmt.Errorf("read the schema version: %w", err)
		}
		fmt.Fprintf(e.p.Stdout, "database schema is at version %d\n", n)
		return nil
	}
}

// setupKeyGenerate: twofactor key generate. It opens no database.
func setupKeyGenerate(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env) error {
		key, err := secret.GenerateKey(nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.p.Stdout, key)
		return nil
	}
}

// setupVersion: twofactor version.
func setupVersion(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env) error {
		version := "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			version = bi.Main.Version
		}
		fmt.Fprintf(e.p.Stdout, "twofactor %s %s\n", version, runtime.Version())
		return nil
	}
}

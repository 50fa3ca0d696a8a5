// Command loadgen measures the standalone server under load (package
// internal/loadtest): it enrols users, makes login challenges, starts the
// server in a process of its own (this program, re-executed) and drives
// POST /api/v1/login/verify with concurrent clients.
//
//	go run ./internal/loadtest/loadgen -database sqlite:/tmp/load.db -users 50000 -clients 64 -duration 20s
//	go run ./internal/loadtest/loadgen -database postgres://postgres@127.0.0.1:5432/test -users 50000
//	go run ./internal/loadtest/loadgen -target hello -clients 64 -requests 150000
//	go run ./internal/loadtest/loadgen -database sqlite:/tmp/m.db -users 1000000 -active 1000 -state /tmp/m.json
//	go run ./internal/loadtest/loadgen -state /tmp/m.json -active 1000
//	go run ./internal/loadtest/loadgen -startup ./twofactor -state /tmp/m.json -runs 20
//
// Without -database it uses a new SQLite database in a temporary directory;
// a PostgreSQL URL gets a private schema, dropped at the end. With -state
// the first run records its enrolment and keeps the database, and later
// runs reuse it (one enrolment of a million users, several loads; a user's
// codes come back 60–90 s after a run, see package loadtest). The report
// goes to standard output, progress to standard error. It exits 1 when a
// request failed or the run could not be made.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"time"

	"github.com/twofactor/twofactor/internal/loadtest"
)

func main() {
	if os.Getenv(loadtest.EnvServe) != "" {
		if err := loadtest.ServeMain(); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen server:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run())
}

func run() int {
	var o loadtest.Options
	flag.StringVar(&o.DatabaseURL, "database", "", "database `URL`: sqlite:PATH or postgres://… (default: a new SQLite database in a temporary directory)")
	flag.IntVar(&o.Users, "users", 10000, "users to enrol")
	flag.IntVar(&o.Active, "active", 0, "users whose codes are sent, spread over the enrolled ones (0: all)")
	flag.StringVar(&o.Enrol, "enrol", loadtest.EnrolBulk, "enrolment: bulk (multi-row inserts) or core (Service.ImportTOTP per user)")
	flag.IntVar(&o.Clients, "clients", 64, "concurrent clients")
	flag.DurationVar(&o.Duration, "duration", 20*time.Second, "longest load (0: until the challenges run out)")
	flag.IntVar(&o.Requests, "requests", 0, "login challenges made beforehand, one per request (0: 3 per active user)")
	flag.IntVar(&o.Warmup, "warmup", 0, "requests sent first and left out of the figures")
	flag.StringVar(&o.Target, "target", loadtest.TargetVerify, "verify (the server) or hello (a plain net/http handler)")
	flag.BoolVar(&o.InProcess, "inprocess", false, "serve from this process instead of a server process")
	flag.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the server during the load to `file`")
	flag.BoolVar(&o.Keep, "keep", false, "keep the database (SQLite file or PostgreSQL schema)")
	flag.StringVar(&o.State, "state", "", "reuse the enrolment recorded in `file`, or record this one there (and keep the database)")
	startup := flag.String("startup", "", "instead of a load, time `twofactor` serve from exec to /readyz 200 on -database (or the -state's database and key)")
	runs := flag.Int("runs", 10, "starts to time with -startup")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if *startup != "" {
		var env []string
		if o.State != "" {
			u, e, err := loadtest.StartupEnv(o.State)
			if err != nil {
				fmt.Fprintln(os.Stderr, "loadgen:", err)
				return 1
			}
			o.DatabaseURL, env = u, e
		}
		return timeStartup(ctx, *startup, o.DatabaseURL, *runs, env)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 1
	}
	o.Command = func() *exec.Cmd { return exec.Command(self) }
	o.Log = os.Stderr
	res, err := loadtest.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 1
	}
	fmt.Print(res.String())
	if res.ErrorCount() > 0 {
		return 1
	}
	return 0
}

// timeStartup prints the start-up times of bin serve on the database.
func timeStartup(ctx context.Context, bin, dbURL string, runs int, env []string) int {
	if dbURL == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -startup needs -database or -state")
		return 2
	}
	ds, err := loadtest.Startup(ctx, bin, dbURL, runs, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 1
	}
	for _, d := range ds {
		fmt.Printf("%.1f ms\n", float64(d)/1e6)
	}
	slices.Sort(ds)
	fmt.Printf("start-up to /readyz 200, %d runs: min %.1f ms, median %.1f ms, max %.1f ms\n",
		len(ds), float64(ds[0])/1e6, float64(ds[len(ds)/2])/1e6, float64(ds[len(ds)-1])/1e6)
	return 0
}

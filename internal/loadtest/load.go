package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the private schema

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/app"
	"github.com/twofactor/twofactor/store"
)

// Targets of a run.
const (
	// TargetVerify drives POST /api/v1/login/verify of the real server.
	TargetVerify = "verify"
	// TargetHello drives a plain net/http handler that reads the body and
	// answers a fixed JSON token, with the same client code.
	TargetHello = "hello"
)

// Options configure a run.
type Options struct {
	// DatabaseURL is sqlite:PATH or postgres://…. Empty means a new SQLite
	// database in a temporary directory. For PostgreSQL the run uses a
	// private schema of its own, dropped at the end unless Keep.
	DatabaseURL string
	// Users is how many users are enrolled; Active how many of them the
	// clients use (0 means all), spread evenly over the enrolled ones.
	Users, Active int
	// Enrol is EnrolBulk (default) or EnrolCore.
	Enrol string
	// Clients is the number of concurrent clients, each with its own
	// keep-alive connection.
	Clients int
	// Duration bounds the run; it also ends when the challenges run out.
	// Zero means until they run out.
	Duration time.Duration
	// Requests is how many login challenges are made beforehand, one per
	// request; 0 means 3 × Active, the most the active users' codes allow
	// within one 30-second window.
	Requests int
	// Warmup is how many requests are sent first and left out of every
	// figure (statements prepared, caches filled). They come out of
	// Requests.
	Warmup int
	// Target is TargetVerify (default) or TargetHello.
	Target string
	// InProcess serves from this process instead of a server process.
	InProcess bool
	// Command returns the command that runs the server process (see
	// [ServeMain]); required unless InProcess.
	Command func() *exec.Cmd
	// CPUProfile, when set, is a file to write a CPU profile of the server
	// taken during the load; a heap profile taken at its end goes to the
	// same name with ".heap" added.
	CPUProfile string
	// Keep leaves the database (SQLite file or PostgreSQL schema) in place.
	Keep bool
	// State is a file that records an enrolment (database URL, secret key,
	// key seed, number of users) so that later runs reuse it: when the
	// file exists the run enrols nobody and picks up the users, with the
	// steps they used, from the database; when it does not, the run keeps
	// its database and writes the file. Empty means no reuse.
	State string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Result is what a run measured.
type Result struct {
	Target, Database       string
	Users, Active, Clients int
	// Enrolment and the challenges made beforehand.
	EnrolTime, ChallengeTime time.Duration
	Challenges               int
	// The load: requests sent after the warm-up, answered 200, and the rest
	// by status.
	Warmup       int
	Requests, OK int
	Errors       map[string]int
	Elapsed      time.Duration
	// Latencies of all requests, as the clients saw them.
	P50, P90, P99, Max time.Duration
	// The server's CPU time (user + system) during the load, and its peak
	// resident memory (VmHWM), with where they were read.
	ServerCPU time.Duration
	ClientCPU time.Duration // this process's CPU time during the load
	// DatabaseCPU is the CPU time during the load of the PostgreSQL
	// backends serving the server's connections (found by their
	// application_name), when PostgreSQL runs on this machine.
	DatabaseCPU time.Duration
	PeakRSS     int64
	RSSSource   string
	LoadAverage string // /proc/loadavg before the load
}

// Throughput is the rate of successful requests.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// ErrorCount is the number of requests not answered 200.
func (r *Result) ErrorCount() int { return r.Requests - r.OK }

// CPUPerRequest is the server's CPU time per successful request.
func (r *Result) CPUPerRequest() time.Duration {
	if r.OK == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.OK)
}

// String formats the result as a short report.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "target %s on %s: %d users enrolled (%d active), %d clients\n", r.Target, r.Database, r.Users, r.Active, r.Clients)
	if r.Target == TargetVerify && r.EnrolTime == 0 {
		fmt.Fprintf(&b, "enrolment reused; %d challenges made in %s\n", r.Challenges, r.ChallengeTime.Round(time.Millisecond))
	} else if r.Target == TargetVerify {
		fmt.Fprintf(&b, "enrolment %s (%.0f users/s); %d challenges made in %s\n", r.EnrolTime.Round(time.Millisecond),
			float64(r.Users)/max(r.EnrolTime.Seconds(), 1e-9), r.Challenges, r.ChallengeTime.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "load average before the load: %s\n", r.LoadAverage)
	if r.Warmup > 0 {
		fmt.Fprintf(&b, "after %d warm-up requests: ", r.Warmup)
	}
	fmt.Fprintf(&b, "requests %d in %s: %.0f/s, errors %d %v\n", r.Requests, r.Elapsed.Round(time.Millisecond), r.Throughput(), r.ErrorCount(), r.Errors)
	fmt.Fprintf(&b, "latency p50 %s p90 %s p99 %s max %s\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
	fmt.Fprintf(&b, "server CPU %s: %s per request; client CPU %s\n", r.ServerCPU.Round(time.Millisecond),
		r.CPUPerRequest().Round(100*time.Nanosecond), r.ClientCPU.Round(time.Millisecond))
	if r.DatabaseCPU > 0 {
		fmt.Fprintf(&b, "PostgreSQL processes' CPU %s: %s per request\n", r.DatabaseCPU.Round(time.Millisecond),
			(r.DatabaseCPU / time.Duration(max(r.OK, 1))).Round(100*time.Nanosecond))
	}
	fmt.Fprintf(&b, "peak RSS %.1f MiB (%s)\n", float64(r.PeakRSS)/(1<<20), r.RSSSource)
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

// Run enrols the users, makes the challenges, starts the server and drives
// it, then stops it and returns what it measured.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Target == "" {
		o.Target = TargetVerify
	}
	if o.Enrol == "" {
		o.Enrol = EnrolBulk
	}
	if o.Clients <= 0 {
		return nil, errors.New("loadtest: Clients must be positive")
	}
	st, err := loadState(o.State)
	if err != nil {
		return nil, err
	}
	if st != nil {
		o.Users = st.Users
	}
	if o.Users <= 0 && o.Target == TargetVerify {
		return nil, errors.New("loadtest: Users must be positive")
	}
	if o.Active <= 0 || o.Active > o.Users {
		o.Active = o.Users
	}
	if o.Requests <= 0 {
		o.Requests = 3 * o.Active
	}
	if !o.InProcess && o.Command == nil {
		return nil, errors.New("loadtest: Command is required unless InProcess")
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	res := &Result{Target: o.Target, Users: o.Users, Active: o.Active, Clients: o.Clients, Errors: map[string]int{}}

	var src source
	var env []string
	cfg := config.Default()
	if o.Target == TargetHello {
		src = helloSource(o.Requests)
		res.Database = "no database"
	} else {
		var dbURL string
		cleanup := func() {}
		if st != nil {
			dbURL, cfg.SecretKey = st.DatabaseURL, st.SecretKey
			logf("reusing the enrolment of %s: %d users", o.State, st.Users)
		} else {
			if o.State != "" {
				o.Keep = true
			}
			var err error
			dbURL, cleanup, err = database(ctx, o, logf)
			if err != nil {
				return nil, err
			}
			key := make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return nil, err
			}
			cfg.SecretKey = hex.EncodeToString(key)
		}
		defer cleanup()
		cfg.DatabaseURL = dbURL
		cfg.RateLimit.SignIn = config.Rate{}
		res.Database = describe(dbURL)
		users, err := prepare(ctx, o, cfg, st, res, logf)
		if err != nil {
			return nil, err
		}
		src = verifySource(users)
		env = []string{envDatabase + "=" + dbURL, envSecretKey + "=" + cfg.SecretKey}
	}

	srv, err := start(ctx, o, cfg, env)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	logf("server ready at %s; driving it with %d clients", srv.url, o.Clients)
	warm := &Result{Errors: map[string]int{}}
	if o.Warmup > 0 {
		drive(ctx, srv.url, o.Clients, 0, &limited{src: src, left: int64(o.Warmup)}, warm)
		res.Warmup = warm.Requests
		logf("warm-up: %d requests", warm.Requests)
	}
	res.LoadAverage = loadAverage()
	var dbURL string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, envDatabase+"="); ok {
			dbURL = v
		}
	}
	db0 := backendsCPU(ctx, dbURL)
	cpu0, self0 := srv.cpu(), processCPU(os.Getpid())
	profDone := make(chan error, 1)
	if o.CPUProfile != "" && srv.pprof != "" {
		secs := max(1, int((o.Duration-time.Second)/time.Second))
		go func() { profDone <- fetchProfile(srv.pprof, secs, o.CPUProfile) }()
	} else {
		profDone <- nil
	}
	drive(ctx, srv.url, o.Clients, o.Duration, src, res)
	res.ServerCPU, res.ClientCPU = srv.cpu()-cpu0, processCPU(os.Getpid())-self0
	for k, v := range warm.Errors { // failures of the warm-up count too
		res.Errors["warm-up: "+k] += v
		res.Requests += v
	}
	for pid, t := range backendsCPU(ctx, dbURL) {
		res.DatabaseCPU += t - db0[pid]
	}
	if err := <-profDone; err != nil {
		logf("cpu profile: %v", err)
	}
	if o.CPUProfile != "" && srv.pprof != "" {
		if err := fetch(srv.pprof+"/debug/pprof/heap", o.CPUProfile+".heap"); err != nil {
			logf("heap profile: %v", err)
		}
	}
	res.PeakRSS, res.RSSSource = srv.peakRSS()
	return res, nil
}

// prepare opens the database, enrols the users, checks one through the
// core and makes the challenges; it closes its app before the load.
func prepare(ctx context.Context, o Options, cfg config.Config, st *state, res *Result, logf func(string, ...any)) ([]*user, error) {
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	defer a.Close()
	db, ok := a.Store.(interface{ DB() *sql.DB })
	if !ok {
		return nil, errors.New("loadtest: the store gives no database handle")
	}
	numbered := a.Target.Kind == store.Postgres
	var users []*user
	if st != nil {
		if users, err = loadUsers(ctx, db.DB(), numbered, st, o.Active); err != nil {
			return nil, err
		}
	} else {
		seed := make([]byte, 32)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		t := enrolTarget{db: db.DB(), numbered: numbered, parallel: 1, keys: a.Keys, svc: a.Service, store: a.Store}
		if t.numbered {
			t.parallel = 4
		}
		logf("enrolling %d users (%s)", o.Users, o.Enrol)
		t0 := time.Now()
		users, err = enrol(ctx, t, o.Enrol, o.Users, o.Active, seed, logf)
		if err != nil {
			return nil, fmt.Errorf("enrol: %w", err)
		}
		res.EnrolTime = time.Since(t0)
		logf("enrolled %d users in %s", o.Users, res.EnrolTime.Round(time.Millisecond))
		if o.State != "" {
			err := saveState(o.State, &state{DatabaseURL: cfg.DatabaseURL, SecretKey: cfg.SecretKey, Seed: hex.EncodeToString(seed), Users: o.Users})
			if err != nil {
				return nil, err
			}
		}
	}
	if err := sanityCheck(ctx, a.Service, users); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := makeChallenges(ctx, a.Service, users, o.Requests, 8); err != nil {
		return nil, err
	}
	res.ChallengeTime, res.Challenges = time.Since(t0), o.Requests
	logf("made %d login challenges in %s", o.Requests, res.ChallengeTime.Round(time.Millisecond))
	return users, nil
}

// makeChallenges makes n login challenges with BeginLogin, spread over the
// users in turn, with the given number of concurrent workers.
func makeChallenges(ctx context.Context, svc *twofactor.Service, users []*user, n, workers int) error {
	next := atomic.Int64{}
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				u := users[i%len(users)]
				lr, err := svc.BeginLogin(ctx, &twofactor.User{ID: u.id, Username: u.name, Active: true})
				if err == nil && !lr.MFARequired {
					err = errors.New("two-factor is off for an enrolled user")
				}
				mu.Lock()
				if err != nil {
					if first == nil {
						first = fmt.Errorf("begin login: %w", err)
					}
				} else {
					u.tokens = append(u.tokens, lr.Token)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// database returns the URL the run uses and how to clean it up.
func database(ctx context.Context, o Options, logf func(string, ...any)) (string, func(), error) {
	u := o.DatabaseURL
	if u == "" {
		dir, err := os.MkdirTemp("", "loadtest-")
		if err != nil {
			return "", nil, err
		}
		path := filepath.Join(dir, "load.db")
		if o.Keep {
			logf("the database is %s", path)
			return "sqlite:" + path, func() {}, nil
		}
		return "sqlite:" + path, func() { os.RemoveAll(dir) }, nil
	}
	t, err := store.Parse(u)
	if err != nil {
		return "", nil, err
	}
	if t.Kind != store.Postgres {
		return u, func() {}, nil
	}
	return privateSchema(ctx, u, o.Keep, logf)
}

// privateSchema creates a schema of the run's own and returns the URL that
// uses it.
func privateSchema(ctx context.Context, base string, keep bool, logf func(string, ...any)) (string, func(), error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	schema := "loadtest_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema) // to find the server's backends
	u.RawQuery = q.Encode()
	if keep {
		logf("the PostgreSQL schema is %s", schema)
		return u.String(), func() {}, nil
	}
	return u.String(), func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	}, nil
}

// backendsCPU returns the CPU time of each local PostgreSQL backend whose
// application_name is the run's (set by privateSchema), by process id; nil
// for SQLite or when they cannot be read.
func backendsCPU(ctx context.Context, dbURL string) map[int]time.Duration {
	u, err := url.Parse(dbURL)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return nil
	}
	app := u.Query().Get("application_name")
	if app == "" {
		return nil
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", app)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			out[pid] = processCPU(pid)
		}
	}
	return out
}

// describe names a database for the report, without credentials.
func describe(dbURL string) string {
	t, err := store.Parse(dbURL)
	if err != nil {
		return "?"
	}
	if t.Kind == store.SQLite {
		return "SQLite"
	}
	return "PostgreSQL"
}

// source gives the clients their requests: the body of the next one, or
// false when there are no more. done is called with the request's outcome.
type source interface {
	next(now time.Time) (body []byte, done func(ok bool), more bool)
}

// verifyQueue hands out users round-robin, each to one client at a time.
type verifyQueue struct {
	users chan *user
}

func verifySource(users []*user) source {
	q := &verifyQueue{users: make(chan *user, len(users))}
	for _, u := range users {
		q.users <- u
	}
	return q
}

func (q *verifyQueue) next(now time.Time) ([]byte, func(bool), bool) {
	for tries := 0; ; tries++ {
		var u *user
		select {
		case u = <-q.users:
		default:
			return nil, nil, false // every user is out of challenges
		}
		if len(u.tokens) == 0 {
			continue // dropped: nothing more to send for this user
		}
		s, ok := u.nextStep(now)
		if !ok {
			q.users <- u // every code valid now is used; later
			if tries > 2*cap(q.users) {
				return nil, nil, false
			}
			continue
		}
		tok := u.tokens[len(u.tokens)-1]
		u.tokens = u.tokens[:len(u.tokens)-1]
		body := []byte(`{"mfa_token":"` + tok + `","code":"` + u.code(s) + `"}`)
		return body, func(ok bool) {
			if ok {
				u.accepted(s)
			} else {
				u.last = s // a refused step is not sent again
			}
			q.users <- u
		}, true
	}
}

// limited gives the first left requests of src.
type limited struct {
	src  source
	left int64
	mu   sync.Mutex
}

func (l *limited) next(now time.Time) ([]byte, func(bool), bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left <= 0 {
		return nil, nil, false
	}
	l.left--
	return l.src.next(now)
}

// helloQueue gives n identical requests.
type helloQueue struct {
	left atomic.Int64
	body []byte
}

func helloSource(n int) source {
	q := &helloQueue{body: []byte(`{"mfa_token":"` + strings.Repeat("x", 43) + `","code":"123456"}`)}
	q.left.Store(int64(n))
	return q
}

func (q *helloQueue) next(time.Time) ([]byte, func(bool), bool) {
	if q.left.Add(-1) < 0 {
		return nil, nil, false
	}
	return q.body, func(bool) {}, true
}

// drive runs the clients against base until the source runs dry or the
// duration ends, and fills the request counts and latencies of res.
func drive(ctx context.Context, base string, clients int, d time.Duration, src source, res *Result) {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	target := base + "/api/v1/login/verify"
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d)
	}
	lat := make([][]time.Duration, clients)
	errs := make([]map[string]int, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		errs[c] = map[string]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for ctx.Err() == nil {
				now := time.Now()
				if !deadline.IsZero() && now.After(deadline) {
					return
				}
				body, done, more := src.next(now)
				if !more {
					return
				}
				t0 := time.Now()
				status, err := post(client, target, body, buf)
				lat[c] = append(lat[c], time.Since(t0))
				ok := err == nil && status == http.StatusOK
				switch {
				case err != nil:
					errs[c]["transport: "+err.Error()]++
				case !ok:
					errs[c][fmt.Sprintf("HTTP %d", status)]++
				}
				done(ok)
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	var all []time.Duration
	for c := range lat {
		all = append(all, lat[c]...)
		for k, v := range errs[c] {
			res.Errors[k] += v
		}
	}
	res.Requests = len(all)
	res.OK = res.Requests
	for _, v := range res.Errors {
		res.OK -= v
	}
	slices.Sort(all)
	if len(all) > 0 {
		pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
		res.P50, res.P90, res.P99, res.Max = pct(0.50), pct(0.90), pct(0.99), all[len(all)-1]
	}
}

// post sends one request and reads the whole answer.
func post(client *http.Client, target string, body, buf []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n := 0
	for {
		m, err := resp.Body.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return resp.StatusCode, err
		}
		if n == len(buf) {
			n = 0
		}
	}
	if resp.StatusCode == http.StatusOK && !bytes.Contains(buf[:n], []byte(`"token"`)) {
		return 0, fmt.Errorf("200 without a token: %q", buf[:n])
	}
	return resp.StatusCode, nil
}

// loadAverage returns the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

package loadtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor/internal/pgtest"
)

// The tests run small loads to show that the generator works: every
// request a fresh, valid code that the server accepts. They assert no
// timing; the figures are in docs/BENCHMARKS.md.

func runSmall(t *testing.T, o Options) *Result {
	t.Helper()
	o.InProcess = true
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res)
	return res
}

// checkAllAccepted checks that every request was accepted, and that there
// were between lo and hi.
func checkAllAccepted(t *testing.T, res *Result, lo, hi int) {
	t.Helper()
	if res.ErrorCount() != 0 {
		t.Errorf("%d requests failed: %v", res.ErrorCount(), res.Errors)
	}
	if res.OK < lo || res.OK > hi {
		t.Errorf("%d requests accepted, want %d to %d", res.OK, lo, hi)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 || res.PeakRSS <= 0 {
		t.Errorf("implausible figures: %+v", res)
	}
}

// accepted is how many of the active users' 3 challenges each can be
// used: one step goes to the check through the core, and in the last
// second of a 30-second window only the steps valid in both windows are
// sent (one a user, when the run starts there); a window that ends during
// the run can give the checked user its step back.
func accepted(active int) (lo, hi int) { return active - 1, 3 * active }

// TestVerifySQLite: every code sent is a fresh, valid code on a fresh
// challenge, and is accepted.
func TestVerifySQLite(t *testing.T) {
	for _, method := range []string{EnrolBulk, EnrolCore} {
		t.Run(method, func(t *testing.T) {
			lo, hi := accepted(30)
			res := runSmall(t, Options{DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "load.db"),
				Users: 1200, Active: 30, Enrol: method, Clients: 8})
			checkAllAccepted(t, res, lo, hi)
			if res.Users != 1200 || res.Active != 30 || res.Challenges != 90 {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestVerifyPostgres(t *testing.T) {
	lo, hi := accepted(30)
	res := runSmall(t, Options{DatabaseURL: pgtest.Fresh(t), Users: 1200, Active: 30, Clients: 8})
	checkAllAccepted(t, res, lo, hi)
	if res.Database != "PostgreSQL" {
		t.Errorf("database %q", res.Database)
	}
}

func TestHello(t *testing.T) {
	res := runSmall(t, Options{Target: TargetHello, Clients: 4, Requests: 250, Warmup: 50})
	checkAllAccepted(t, res, 200, 200)
	if res.Warmup != 50 {
		t.Errorf("warm-up %d, want 50", res.Warmup)
	}
	if !strings.Contains(res.String(), "requests 200 ") {
		t.Errorf("report:\n%s", res)
	}
}

// TestNextStep: a user's steps go up within the server's window (which
// the drift of the last match moves), never past it, and in the window's
// last second only steps valid in both windows are sent.
func TestNextStep(t *testing.T) {
	u := &user{last: -1}
	at := time.Unix(30*1000+10, 0) // step 1000, 10 s in
	var got []int64
	for {
		s, ok := u.nextStep(at)
		if !ok {
			break
		}
		got = append(got, s)
		u.accepted(s)
	}
	if len(got) != 3 || got[0] != 999 || got[1] != 1000 || got[2] != 1001 || u.dlo != 1 || u.dhi != 1 {
		t.Errorf("steps %v (drift %d…%d), want 999 1000 1001 (drift 1)", got, u.dlo, u.dhi)
	}
	// The next window: drift 1 centres it on step 1002, the next step,
	// and only that one: none past T+1.
	next := time.Unix(30*1001+5, 0)
	if s, ok := u.nextStep(next); !ok || s != 1002 {
		t.Errorf("next window: %d %v, want 1002", s, ok)
	}
	u.accepted(1002)
	if s, ok := u.nextStep(next); ok {
		t.Errorf("next window: step %d handed out after 1002, want none", s)
	}
	// A device whose drift is −1 accepts 998…1000 at step 1000.
	u = &user{last: -1, dlo: -1, dhi: -1}
	if s, ok := u.nextStep(at); !ok || s != 998 {
		t.Errorf("drift −1: first step %d, want 998", s)
	}
	// In the last second: steps 1000 and 1001 (valid at steps 1000 and
	// 1001), and the drift after is 0 or 1.
	u = &user{last: -1}
	last := time.Unix(30*1000+29, 0)
	s, ok := u.nextStep(last)
	if !ok || s != 1000 {
		t.Fatalf("last second: %d %v, want 1000", s, ok)
	}
	u.accepted(s)
	if u.dlo != -1 || u.dhi != 0 {
		t.Errorf("drift %d…%d, want −1…0", u.dlo, u.dhi)
	}
	if s, ok := u.nextStep(last); ok {
		t.Errorf("last second, drift −1…0: step %d handed out, want none", s)
	}
}

func TestMultiInsert(t *testing.T) {
	if got := multiInsert(true, "t", "a, b", 2, 2); got != "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)" {
		t.Errorf("numbered: %s", got)
	}
	if got := multiInsert(false, "t", "a", 1, 3); got != "INSERT INTO t (a) VALUES (?), (?), (?)" {
		t.Errorf("sqlite: %s", got)
	}
}

// TestReuse: a recorded enrolment serves a second run, which picks up the
// users and the steps they used from the database.
func TestReuse(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	o := Options{DatabaseURL: "sqlite:" + filepath.Join(dir, "load.db"), Users: 1200, Active: 10, Clients: 4, State: state}
	lo, hi := accepted(10)
	checkAllAccepted(t, runSmall(t, o), lo, hi)
	// Other active users (and user 0, whose steps are used up); one step
	// goes to the check through the core.
	o = Options{State: state, Active: 7, Clients: 4}
	res := runSmall(t, o)
	lo, _ = accepted(6)
	if res.ErrorCount() != 0 || res.OK < lo || res.Users != 1200 || res.EnrolTime != 0 {
		t.Errorf("second run: %+v", res)
	}
}

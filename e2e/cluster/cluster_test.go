package cluster_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/app"
	"github.com/twofactor/twofactor/internal/pgtest"
	"github.com/twofactor/twofactor/internal/server"
	"github.com/twofactor/twofactor/otp"
)

// instances is how many servers share the database.
const instances = 3

// racers is how many requests race with one code: one per login challenge,
// spread round-robin over the instances.
const racers = 100

// poolSize caps each instance's PostgreSQL connections. The store's default
// (32) times three instances would take most of a default server's 100
// connections while other packages' tests run against it too; fewer
// connections only make requests queue in the pool, which changes nothing
// about who wins.
const poolSize = 10

var bg = context.Background()

// instance is one `twofactor serve`: its app (store pool, core service,
// rate limiter) and its handler on a local port.
type instance struct {
	app *app.App
	srv *httptest.Server
}

// startCluster starts the instances on one fresh PostgreSQL schema with one
// secret key. Every instance runs the same configuration: the defaults,
// with the per-address sign-in limit off (every request of the test comes
// from 127.0.0.1; that limit lives in each process and is not what is
// tested here), changed by tune.
func startCluster(t *testing.T, tune func(*config.Config)) []instance {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.Fresh(t)
	cfg.SecretKey = hex.EncodeToString(key)
	cfg.RateLimit.SignIn = config.Rate{}
	if tune != nil {
		tune(&cfg)
	}
	var out []instance
	for i := 0; i < instances; i++ {
		a, err := app.Open(bg, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		t.Cleanup(func() { a.Close() })
		if db, ok := a.Store.(interface{ DB() *sql.DB }); ok {
			db.DB().SetMaxOpenConns(poolSize)
			db.DB().SetMaxIdleConns(poolSize)
		}
		h, err := server.New(a)
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		out = append(out, instance{app: a, srv: srv})
	}
	return out
}

// account is an enrolled user: a confirmed TOTP device with a known key,
// and backup codes.
type account struct {
	user    *twofactor.User
	key     []byte
	backups []string
}

// enroll creates a user with a TOTP device and backup codes through the
// core service of one instance (c[0]); the others see it through the
// database.
func enroll(t *testing.T, c []instance, name string) account {
	t.Helper()
	svc := c[0].app.Service
	u, err := svc.Builtin().Create(bg, twofactor.NewUser{Username: name, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 20)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportTOTP(bg, twofactor.OperatorActor(u.ID), twofactor.TOTPSpec{Key: key}, name); err != nil {
		t.Fatal(err)
	}
	codes, err := svc.RegenerateBackupCodes(bg, twofactor.OperatorActor(u.ID))
	if err != nil {
		t.Fatal(err)
	}
	return account{user: u, key: key, backups: codes}
}

// challenges starts n login challenges for the account (its password step
// done), each through the core service of the instance it will be
// completed on, so they are spread over the instances as well.
func challenges(t *testing.T, c []instance, acc account, n int) []string {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		res, err := c[i%len(c)].app.Service.BeginLogin(bg, acc.user)
		if err != nil {
			t.Fatal(err)
		}
		if !res.MFARequired || res.Token == "" {
			t.Fatalf("BeginLogin: %+v, want a challenge", res)
		}
		tokens[i] = res.Token
	}
	return tokens
}

// answer is one response of POST /api/v1/login/verify.
type answer struct {
	instance int
	status   int
	code     string // the problem's code
	token    string
	mfa      bool
	err      error
}

// race sends POST /api/v1/login/verify with body(token) for every token at
// once, request i to instance i mod instances, and returns the answers.
func race(t *testing.T, c []instance, tokens []string, field, value string) []answer {
	t.Helper()
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: len(tokens), MaxConnsPerHost: 0},
	}
	defer client.CloseIdleConnections()
	start := make(chan struct{})
	answers := make([]answer, len(tokens))
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]string{"mfa_token": tok, field: value})
			n := i % len(c)
			<-start
			answers[i] = verify(client, c[n].srv.URL, body)
			answers[i].instance = n
		}()
	}
	close(start)
	wg.Wait()
	return answers
}

// verify posts one verification and decodes its answer.
func verify(client *http.Client, base string, body []byte) answer {
	req, err := http.NewRequest("POST", base+"/api/v1/login/verify", bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
		MFA   bool   `json:"mfa"`
		Code  string `json:"code"`
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		return answer{status: resp.StatusCode, err: fmt.Errorf("body %q: %v", b, err)}
	}
	return answer{status: resp.StatusCode, code: out.Code, token: out.Token, mfa: out.MFA}
}

// checkOneWinner checks that exactly one answer is a 200 with a verified
// token and every other one a 4xx with invalid_code (or throttled when
// throttledOK), never a 5xx or a transport error; it returns the winner's
// token.
func checkOneWinner(t *testing.T, answers []answer, throttledOK bool) string {
	t.Helper()
	count := map[string]int{}
	var token string
	for i, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("request %d (instance %d): %v", i, a.instance, a.err)
		case a.status == http.StatusOK:
			count["200"]++
			if a.token == "" || !a.mfa {
				t.Errorf("request %d: 200 without a verified token: %+v", i, a)
			}
			token = a.token
		case a.status == http.StatusBadRequest && a.code == string(twofactor.CodeInvalidCode):
			count["400 invalid_code"]++
		case a.status == http.StatusTooManyRequests && a.code == string(twofactor.CodeThrottled) && throttledOK:
			count["429 throttled"]++
		default:
			count[fmt.Sprintf("%d %s", a.status, a.code)]++
			t.Errorf("request %d (instance %d): %d %q, want 200 or 400 invalid_code (or 429 throttled with throttles on)",
				i, a.instance, a.status, a.code)
		}
	}
	t.Logf("answers: %v", count)
	if count["200"] != 1 {
		t.Fatalf("%d requests signed in with one code, want exactly 1 (answers %v)", count["200"], count)
	}
	return token
}

// checkTokenEverywhere checks that every instance accepts the winner's
// token: sessions live in the shared database.
func checkTokenEverywhere(t *testing.T, c []instance, token string) {
	t.Helper()
	for i, in := range c {
		req, _ := http.NewRequest("GET", in.srv.URL+"/api/v1/mfa", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("instance %d: GET /api/v1/mfa with the new token = %d, want 200", i, resp.StatusCode)
		}
	}
}

// events counts the user's audit events by kind.
func events(t *testing.T, c []instance, userID string) map[twofactor.EventKind]int {
	t.Helper()
	evs, err := c[1].app.Store.EventsByUser(bg, userID, 10*racers)
	if err != nil {
		t.Fatal(err)
	}
	n := map[twofactor.EventKind]int{}
	for _, e := range evs {
		n[e.Kind]++
	}
	return n
}

// TestReplayAcrossInstances races one valid TOTP code, then one backup
// code, in 100 concurrent sign-ins spread over three instances (SPEC
// §10.1): exactly one signs in. With the throttles on (the defaults), the
// shared device and user throttles refuse most of the others; with every
// throttle off, every request is evaluated and only the atomic
// consumption in the database decides.
func TestReplayAcrossInstances(t *testing.T) {
	variants := []struct {
		name      string
		throttled bool
		tune      func(*config.Config)
	}{
		{"throttled", true, nil},
		{"unthrottled", false, func(c *config.Config) { c.Throttle = config.Throttle{} }},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			c := startCluster(t, v.tune)

			t.Run("TOTP", func(t *testing.T) {
				acc := enroll(t, c, "alice")
				tokens := challenges(t, c, acc, racers)
				code := otp.Format(otp.HOTP(acc.key, uint64(time.Now().Unix()/30), 6, otp.SHA1), 6)
				answers := race(t, c, tokens, "code", code)
				token := checkOneWinner(t, answers, v.throttled)
				checkTokenEverywhere(t, c, token)
				n := events(t, c, acc.user.ID)
				if n[twofactor.EventUserVerified] != 1 {
					t.Errorf("%d user_verified events, want 1 (%v)", n[twofactor.EventUserVerified], n)
				}
				if !v.throttled && n[twofactor.EventVerificationFailed] != racers-1 {
					t.Errorf("without throttles %d verification_failed events, want every other request (%d): %v",
						n[twofactor.EventVerificationFailed], racers-1, n)
				}
			})

			t.Run("BackupCode", func(t *testing.T) {
				acc := enroll(t, c, "bob")
				tokens := challenges(t, c, acc, racers)
				answers := race(t, c, tokens, "backup_code", acc.backups[0])
				token := checkOneWinner(t, answers, v.throttled)
				checkTokenEverywhere(t, c, token)
				left, err := c[2].app.Service.BackupCodesRemaining(bg, acc.user.ID)
				if err != nil {
					t.Fatal(err)
				}
				if left != len(acc.backups)-1 {
					t.Errorf("%d backup codes left, want %d", left, len(acc.backups)-1)
				}
				n := events(t, c, acc.user.ID)
				if n[twofactor.EventBackupCodeUsed] != 1 {
					t.Errorf("%d backup_code_used events, want 1 (%v)", n[twofactor.EventBackupCodeUsed], n)
				}
				if !v.throttled && n[twofactor.EventVerificationFailed] != racers-1 {
					t.Errorf("without throttles %d verification_failed events, want %d: %v",
						n[twofactor.EventVerificationFailed], racers-1, n)
				}
			})
		})
	}
}

package otp_test

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor/internal/testenv"
	"github.com/twofactor/twofactor/otp"
)

var oathtoolSeed = flag.Uint64("otp.seed", 0, "seed for TestOathtool's random cases (0: pick one and print it)")

// oathCase is one random configuration checked against oathtool.
type oathCase struct {
	key     []byte
	alg     otp.Algorithm
	digits  int
	step    int64
	t0      int64
	unix    int64
	counter uint64 // HOTP counter (SHA1 only: oathtool's HOTP mode has no algorithm option)
	hotp    bool
}

func (c oathCase) args() []string {
	d := strconv.Itoa(c.digits)
	k := hex.EncodeToString(c.key)
	if c.hotp {
		return []string{"-c", strconv.FormatUint(c.counter, 10), "-d", d, "-w", "2", k}
	}
	return []string{"--totp=" + c.alg.String(), "-d", d, "-s", strconv.FormatInt(c.step, 10),
		"-S", "@" + strconv.FormatInt(c.t0, 10), "-N", "@" + strconv.FormatInt(c.unix, 10), "-w", "2", k}
}

// TestOathtool compares HOTP, TOTP.At and TOTP.Verify with oathtool (OATH
// Toolkit) over random keys, times, steps, digits and algorithms. Each call
// returns three consecutive codes (-w 2). Rerun a failure with
// go test ./otp -run TestOathtool -args -otp.seed=N.
func TestOathtool(t *testing.T) {
	tool := testenv.Command(t, "oathtool", "oathtool")
	t.Parallel()

	seed := *oathtoolSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -args -otp.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	algs := []otp.Algorithm{otp.SHA1, otp.SHA256, otp.SHA512}
	var cases []oathCase
	for i := range 200 {
		c := oathCase{
			key:    make([]byte, 10+rng.IntN(55)),
			alg:    algs[rng.IntN(3)],
			digits: []int{6, 8}[rng.IntN(2)],
		}
		for j := range c.key {
			c.key[j] = byte(rng.UintN(256))
		}
		switch rng.IntN(3) {
		case 0:
			c.step = 30
		case 1:
			c.step = 60
		default:
			c.step = 1 + rng.Int64N(120)
		}
		if rng.IntN(2) == 0 {
			c.t0 = rng.Int64N(1_000_000_000)
		}
		c.unix = c.t0 + rng.Int64N(1<<34)
		cases = append(cases, c)
		if i%4 == 0 { // HOTP: SHA1 only
			h := c
			h.hotp, h.alg = true, otp.SHA1
			h.counter = rng.Uint64N(1 << 63)
			if i == 0 {
				h.counter = 0
			}
			cases = append(cases, h)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := make([][]string, len(cases))
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				out, err := exec.CommandContext(ctx, tool, cases[i].args()...).Output()
				results[i], errs[i] = strings.Fields(string(out)), err
			}
		})
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()

	for i, c := range cases {
		desc := fmt.Sprintf("oathtool %s", strings.Join(c.args(), " "))
		if errs[i] != nil {
			t.Fatalf("%s: %v", desc, errs[i])
		}
		if len(results[i]) != 3 {
			t.Fatalf("%s: output %q, want 3 codes", desc, results[i])
		}
		for w, want := range results[i] {
			code, err := otp.ParseCode(want, c.digits)
			if err != nil {
				t.Fatalf("%s: ParseCode(%q): %v", desc, want, err)
			}
			if c.hotp {
				counter := c.counter + uint64(w)
				if got := otp.Format(otp.HOTP(c.key, counter, c.digits, c.alg), c.digits); got != want {
					t.Errorf("%s: HOTP(counter %d) = %s, want %s", desc, counter, got, want)
				}
				// The caller has used the counter before this one.
				if got, ok := otp.VerifyHOTP(c.key, c.alg, c.digits, code, int64(counter)-1, 0); !ok || got != int64(counter) {
					t.Errorf("%s: VerifyHOTP(%s) = (%d, %v), want (%d, true)", desc, want, got, ok, counter)
				}
				continue
			}
			g := otp.TOTP{Key: c.key, Algorithm: c.alg, Digits: c.digits, Step: c.step, T0: c.t0}
			drift := int64(w)
			if got := otp.Format(g.At(c.unix, drift), c.digits); got != want {
				t.Errorf("%s: At(%d, drift %d) = %s, want %s", desc, c.unix, drift, got, want)
			}
			if got := otp.Format(g.At(c.unix+drift*c.step, 0), c.digits); got != want {
				t.Errorf("%s: At(%d) = %s, want %s", desc, c.unix+drift*c.step, got, want)
			}
			// Tolerance w reaches offset +w; any match must be a step with
			// this code.
			m, ok := g.Verify(code, c.unix, w, 0, -1)
			if !ok {
				t.Errorf("%s: Verify(%s, tolerance %d) refused", desc, want, w)
			} else if g.At(c.unix, m.Drift) != code || m.Counter != g.Counter(c.unix, m.Drift) {
				t.Errorf("%s: Verify(%s) matched %+v", desc, want, m)
			}
			// Once its step is used the code is refused, unless (rarely) a
			// later step in the window has the same code.
			used := g.Counter(c.unix, drift)
			if m, ok := g.Verify(code, c.unix, w, 0, used); ok && (m.Counter <= used || g.At(c.unix, m.Drift) != code) {
				t.Errorf("%s: Verify(%s) accepted after its step was used: %+v", desc, want, m)
			}
		}
	}
}

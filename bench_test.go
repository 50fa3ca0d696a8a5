package twofactor_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/pgtest"
	"github.com/twofactor/twofactor/secret"
	"github.com/twofactor/twofactor/store/postgres"
	"github.com/twofactor/twofactor/store/sqlite"
)

// benchVerify measures one successful TOTP verification through the store:
// the device read, the attempt claim, the atomic consumption and the audit
// record. The clock moves one step per iteration so every code is fresh.
func benchVerify(b *testing.B, st twofactor.Store) {
	keys, err := secret.NewKeyring(testKey)
	if err != nil {
		b.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	svc, err := twofactor.New(twofactor.Config{Store: st, Keys: keys, Options: opts(), Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	u, err := svc.Builtin().Create(ctx, twofactor.NewUser{Username: "bench", Password: "correct horse"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.ImportTOTP(ctx, twofactor.OperatorActor(u.ID), twofactor.TOTPSpec{Key: fixtureKey}, "bench"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clock.Add(30 * time.Second)
		if _, err := svc.Verify(ctx, u.ID, code(fixtureKey, clock.Now().Unix()/30), ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifySQLite(b *testing.B) {
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	benchVerify(b, st)
}

func BenchmarkVerifyPostgres(b *testing.B) {
	st, err := postgres.Open(ctx, pgtest.Fresh(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	benchVerify(b, st)
}

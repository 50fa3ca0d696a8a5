package loadtest

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// state records an enrolment for later runs (Options.State). It holds the
// run's secret key: it is for throwaway load-test databases only, and is
// written with mode 0600.
type state struct {
	DatabaseURL string `json:"database_url"`
	SecretKey   string `json:"secret_key"`
	Seed        string `json:"seed"` // hex; the users' TOTP keys derive from it
	Users       int    `json:"users"`
}

// loadState reads the state file at path; nil when path is "" or there is
// no such file.
func loadState(path string) (*state, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	if st.DatabaseURL == "" || st.SecretKey == "" || st.Users <= 0 {
		return nil, fmt.Errorf("state %s: incomplete", path)
	}
	if _, err := hex.DecodeString(st.Seed); err != nil {
		return nil, fmt.Errorf("state %s: seed: %w", path, err)
	}
	return &st, nil
}

// saveState writes the state file.
func saveState(path string, st *state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// loadUsers finds the active users of a recorded enrolment, with the last
// time step each one used and its device's drift.
func loadUsers(ctx context.Context, db *sql.DB, numbered bool, st *state, active int) ([]*user, error) {
	seed, _ := hex.DecodeString(st.Seed)
	q := "SELECT u.id, d.counter, d.drift FROM twofactor_users u JOIN twofactor_devices d ON d.user_id = u.id AND d.is_primary = TRUE WHERE u.username = ?"
	if numbered {
		q = "SELECT u.id, d.counter, d.drift FROM twofactor_users u JOIN twofactor_devices d ON d.user_id = u.id AND d.is_primary = TRUE WHERE u.username = $1"
	}
	stmt, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	users := make([]*user, active)
	for i, j := range activeIndex(st.Users, active) {
		u := &user{name: userName(i), key: keyOf(seed, i)}
		if err := stmt.QueryRowContext(ctx, u.name).Scan(&u.id, &u.last, &u.dlo); err != nil {
			return nil, fmt.Errorf("user %s of the recorded enrolment: %w", u.name, err)
		}
		u.dhi = u.dlo
		users[j] = u
	}
	return users, nil
}

// StartupEnv returns, for the enrolment recorded in the state file at path,
// its database URL and the environment that gives `twofactor serve` its
// secret key, for [Startup].
func StartupEnv(path string) (dbURL string, env []string, err error) {
	st, err := loadState(path)
	if err != nil {
		return "", nil, err
	}
	if st == nil {
		return "", nil, fmt.Errorf("no state file %s", path)
	}
	return st.DatabaseURL, []string{"TWOFACTOR_SECRET_KEY=" + st.SecretKey}, nil
}

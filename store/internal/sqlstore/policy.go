package sqlstore

import (
	"context"
	"time"

	"github.com/twofactor/twofactor"
)

// PolicySince implements twofactor.PolicyStore. The insert that loses a race
// changes nothing, and both callers then read the winner's time.
func (s *Store) PolicySince(ctx context.Context, userID string, now time.Time) (time.Time, error) {
	if _, err := s.write().exec(ctx, "INSERT INTO twofactor_policy (user_id, since) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING", userID, micros(now)); err != nil {
		return time.Time{}, err
	}
	var since int64
	if err := s.write().queryRow(ctx, "SELECT since FROM twofactor_policy WHERE user_id = ?", userID).Scan(&since); err != nil {
		return time.Time{}, err
	}
	return fromMicros(since), nil
}

// Adoption implements twofactor.UserStore.
func (s *Store) Adoption(ctx context.Context) (twofactor.Adoption, error) {
	a := twofactor.Adoption{ByKind: map[twofactor.Kind]int{}}
	r := s.read()
	if err := r.queryRow(ctx, "SELECT COUNT(*) FROM twofactor_users").Scan(&a.Users); err != nil {
		return a, err
	}
	if err := r.queryRow(ctx, `SELECT COUNT(DISTINCT d.user_id) FROM twofactor_devices d
		JOIN twofactor_users u ON u.id = d.user_id WHERE d.is_primary = TRUE AND d.confirmed = TRUE`).Scan(&a.Enabled); err != nil {
		return a, err
	}
	rows, err := r.query(ctx, `SELECT d.kind, COUNT(DISTINCT d.user_id) FROM twofactor_devices d
		JOIN twofactor_users u ON u.id = d.user_id WHERE d.confirmed = TRUE GROUP BY d.kind`)
	if err != nil {
		return a, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			return a, err
		}
		a.ByKind[twofactor.Kind(kind)] = n
	}
	return a, rows.Err()
}

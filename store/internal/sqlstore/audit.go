package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/twofactor/twofactor"
)

// AppendEvent implements twofactor.AuditStore.
func (s *Store) AppendEvent(ctx context.Context, e *twofactor.Event) error {
	return appendEvent(ctx, s.write(), e)
}

// appendEvents appends events inside tx, setting their ids.
func (s *Store) appendEvents(ctx context.Context, tx *sql.Tx, events []twofactor.Event) error {
	for i := range events {
		if err := appendEvent(ctx, s.in(tx), &events[i]); err != nil {
			return err
		}
	}
	return nil
}

func appendEvent(ctx context.Context, r runner, e *twofactor.Event) error {
	return r.queryRow(ctx, `INSERT INTO twofactor_audit (at, user_id, kind, device_id, device_kind, outcome, reason, address, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		micros(e.Time), e.UserID, string(e.Kind), e.DeviceID, string(e.DeviceKind), string(e.Outcome), e.Reason,
		truncate(e.Address, 64), truncate(e.UserAgent, 512)).Scan(&e.ID)
}

// EventsByUser implements twofactor.AuditStore.
func (s *Store) EventsByUser(ctx context.Context, userID string, limit int) ([]twofactor.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read().query(ctx, `SELECT id, at, user_id, kind, device_id, device_kind, outcome, reason, address, user_agent
		FROM twofactor_audit WHERE user_id = ? ORDER BY id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []twofactor.Event
	for rows.Next() {
		var e twofactor.Event
		var at int64
		var kind, dkind, outcome string
		if err := rows.Scan(&e.ID, &at, &e.UserID, &kind, &e.DeviceID, &dkind, &outcome, &e.Reason, &e.Address, &e.UserAgent); err != nil {
			return nil, err
		}
		e.Time, e.Kind, e.DeviceKind, e.Outcome = fromMicros(at), twofactor.EventKind(kind), twofactor.Kind(dkind), twofactor.Outcome(outcome)
		out = append(out, e)
	}
	return out, rows.Err()
}

// truncate bounds client-supplied strings kept in the audit trail to n
// bytes of valid UTF-8 without control characters (PostgreSQL refuses
// invalid UTF-8 and NUL in text columns; control characters would let a
// client forge lines in an exported log).
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
)

const userCols = "id, username, email, password_hash, password_changed_at, staff, active, created_at"

func scanUser(row interface{ Scan(...any) error }) (*twofactor.UserRecord, error) {
	var u twofactor.UserRecord
	var changed, created int64
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &changed, &u.Staff, &u.Active, &created)
	if err != nil {
		return nil, notFound(err)
	}
	u.PasswordChangedAt, u.CreatedAt = fromMicros(changed), fromMicros(created)
	return &u, nil
}

// CreateUser implements twofactor.UserStore.
func (s *Store) CreateUser(ctx context.Context, u *twofactor.UserRecord) error {
	_, err := s.write().exec(ctx, "INSERT INTO twofactor_users ("+userCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.Username, u.Email, u.PasswordHash, micros(u.PasswordChangedAt), u.Staff, u.Active, micros(u.CreatedAt))
	return s.conflict(err)
}

// UserByID implements twofactor.UserStore.
func (s *Store) UserByID(ctx context.Context, id string) (*twofactor.UserRecord, error) {
	return scanUser(s.read().queryRow(ctx, "SELECT "+userCols+" FROM twofactor_users WHERE id = ?", id))
}

// UserByName implements twofactor.UserStore.
func (s *Store) UserByName(ctx context.Context, username string) (*twofactor.UserRecord, error) {
	return scanUser(s.read().queryRow(ctx, "SELECT "+userCols+" FROM twofactor_users WHERE username = ?", username))
}

// SetPassword implements twofactor.UserStore.
func (s *Store) SetPassword(ctx context.Context, id, hash string, changedAt time.Time) error {
	res, err := s.write().exec(ctx, "UPDATE twofactor_users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
		hash, micros(changedAt), id)
	return affectedOne(res, err)
}

// ListUsers implements twofactor.UserStore.
func (s *Store) ListUsers(ctx context.Context, q twofactor.UserQuery) ([]twofactor.UserRecord, int, error) {
	where, args := "", []any{}
	if q.Search != "" {
		pattern := "%" + likeEscaper.Replace(strings.ToLower(q.Search)) + "%"
		where = ` WHERE LOWER(username) LIKE ? ESCAPE '\' OR LOWER(email) LIKE ? ESCAPE '\'`
		args = append(args, pattern, pattern)
	}
	var total int
	if err := s.read().queryRow(ctx, "SELECT COUNT(*) FROM twofactor_users"+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	query := "SELECT " + userCols + " FROM twofactor_users" + where + " ORDER BY username"
	if q.Limit > 0 {
		query += " LIMIT ? OFFSET ?"
		args = append(args, q.Limit, max(q.Offset, 0))
	}
	rows, err := s.read().query(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []twofactor.UserRecord
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *u)
	}
	return out, total, rows.Err()
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// affectedOne turns "no row changed" into ErrNotFound.
func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return twofactor.ErrNotFound
	}
	return nil
}

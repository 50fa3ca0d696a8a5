package main

import (
	"context"
	"sync"
	"time"

	"github.com/twofactor/twofactor"
	"golang.org/x/crypto/bcrypt"
)

// appUser is a row of the application's own user table. The application
// existed before two-factor authentication: it has its own ids, its own
// password hashes (bcrypt) and its own idea of an administrator.
type appUser struct {
	ID           string
	Login        string
	Email        string
	Admin        bool
	Disabled     bool
	PasswordHash []byte
	PasswordSet  time.Time // when the password last changed
	Created      time.Time
}

// userTable is the application's user table, in memory for the example;
// a real one lives in the application's database.
type userTable struct {
	mu      sync.RWMutex
	byID    map[string]*appUser
	byLogin map[string]*appUser
	dummy   []byte // a hash to compare against for unknown logins
}

// newUserTable returns an empty table.
func newUserTable() (*userTable, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	return &userTable{byID: map[string]*appUser{}, byLogin: map[string]*appUser{}, dummy: dummy}, nil
}

// add adds a user with a password.
func (t *userTable) add(id, login, email, password string, admin bool) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	now := time.Now()
	u := &appUser{ID: id, Login: login, Email: email, Admin: admin, PasswordHash: hash, PasswordSet: now, Created: now}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byID[id], t.byLogin[login] = u, u
	return nil
}

// checkPassword is the application's own password check. An unknown login
// costs one bcrypt comparison too, so timing does not tell which logins
// exist.
func (t *userTable) checkPassword(login, password string) (*appUser, bool) {
	t.mu.RLock()
	u := t.byLogin[login]
	t.mu.RUnlock()
	if u == nil {
		_ = bcrypt.CompareHashAndPassword(t.dummy, []byte(password))
		return nil, false
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil || u.Disabled {
		return nil, false
	}
	return u, true
}

// userSource lets twofactor use the application's user table: it
// implements [twofactor.UserSource] over it. twofactor keeps only its own
// tables (devices, sessions, audit…) and refers to users by the
// application's ids.
type userSource struct{ table *userTable }

var _ twofactor.UserSource = userSource{}

// invalidCredentials is the refusal of a wrong username or password. Its
// message is the one of twofactor's message catalog, so the sign-in page
// shows it translated.
var invalidCredentials = &twofactor.Error{
	Code:    twofactor.CodeInvalidCredentials,
	Message: "Please enter a correct username and password. Note that both fields may be case-sensitive.",
}

// Authenticate implements twofactor.UserSource with the application's own
// password check. Wrong credentials must be a *twofactor.Error with
// CodeInvalidCredentials (any other error is taken for an outage).
func (s userSource) Authenticate(ctx context.Context, username, password string) (*twofactor.User, error) {
	u, ok := s.table.checkPassword(username, password)
	if !ok {
		return nil, invalidCredentials
	}
	return toUser(u), nil
}

// UserByID implements twofactor.UserSource: twofactor.ErrNotFound when
// there is no such user.
func (s userSource) UserByID(ctx context.Context, id string) (*twofactor.User, error) {
	s.table.mu.RLock()
	defer s.table.mu.RUnlock()
	if u := s.table.byID[id]; u != nil {
		return toUser(u), nil
	}
	return nil, twofactor.ErrNotFound
}

// UserByName implements twofactor.UserSource.
func (s userSource) UserByName(ctx context.Context, username string) (*twofactor.User, error) {
	s.table.mu.RLock()
	defer s.table.mu.RUnlock()
	if u := s.table.byLogin[username]; u != nil {
		return toUser(u), nil
	}
	return nil, twofactor.ErrNotFound
}

// toUser is a row as twofactor sees it. PasswordChangedAt matters: a
// browser remembered before the password changed is no longer honoured.
func toUser(u *appUser) *twofactor.User {
	return &twofactor.User{
		ID: u.ID, Username: u.Login, Email: u.Email, Staff: u.Admin, Active: !u.Disabled,
		PasswordChangedAt: u.PasswordSet, CreatedAt: u.Created,
	}
}

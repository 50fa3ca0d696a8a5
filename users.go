package twofactor

import (
	"context"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/twofactor/twofactor/password"
)

// UserSource authenticates and finds users. The standalone server uses
// [BuiltinUsers]; an application with its own user table implements this
// interface over it and passes it in Config.Users.
type UserSource interface {
	// Authenticate checks a username and password. Wrong credentials and
	// inactive accounts are an *Error with CodeInvalidCredentials.
	Authenticate(ctx context.Context, username, password string) (*User, error)
	// UserByID returns the user with that id, or ErrNotFound.
	UserByID(ctx context.Context, id string) (*User, error)
	// UserByName returns the user with that username, or ErrNotFound.
	UserByName(ctx context.Context, username string) (*User, error)
}

// BuiltinUsers is the UserSource of the standalone server: users kept in the
// Store with argon2id password hashes.
type BuiltinUsers struct {
	store  UserStore
	params password.Params
	clock  Clock
	rand   io.Reader
}

var _ UserSource = (*BuiltinUsers)(nil)

// Authenticate implements UserSource. An unknown user costs the same
// password-hashing work as a known one, so response times do not reveal
// which usernames exist.
func (b *BuiltinUsers) Authenticate(ctx context.Context, username, pw string) (*User, error) {
	invalid := &Error{Code: CodeInvalidCredentials, Message: msgInvalidCredentials}
	rec, err := b.store.UserByName(ctx, username)
	if errors.Is(err, ErrNotFound) {
		password.Dummy(pw)
		return nil, invalid
	}
	if err != nil {
		return nil, internal("load user", err)
	}
	ok, err := password.Verify(pw, rec.PasswordHash)
	if err != nil || !ok || !rec.Active {
		return nil, invalid
	}
	if password.NeedsRehash(rec.PasswordHash, b.params) {
		// Upgrade old or imported hashes to the current parameters while we
		// hold the plaintext; failure only postpones the upgrade.
		if h, err := password.Hash(pw, b.params, b.rand); err == nil {
			_ = b.store.SetPassword(ctx, rec.ID, h, rec.PasswordChangedAt)
		}
	}
	u := rec.User
	return &u, nil
}

// UserByID implements UserSource.
func (b *BuiltinUsers) UserByID(ctx context.Context, id string) (*User, error) {
	rec, err := b.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	u := rec.User
	return &u, nil
}

// UserByName implements UserSource.
func (b *BuiltinUsers) UserByName(ctx context.Context, username string) (*User, error) {
	rec, err := b.store.UserByName(ctx, username)
	if err != nil {
		return nil, err
	}
	u := rec.User
	return &u, nil
}

// NewUser describes a user to create.
type NewUser struct {
	Username string
	Email    string
	Password string
	Staff    bool
}

// Create adds a user. The username follows Django's rule (letters, digits
// and @ . + - _, at most 150 characters) so migrated accounts fit.
func (b *BuiltinUsers) Create(ctx context.Context, nu NewUser) (*User, error) {
	if err := ValidateUsername(nu.Username); err != nil {
		return nil, err
	}
	if err := validateEmail(nu.Email); err != nil {
		return nil, err
	}
	if err := ValidatePassword(nu.Password); err != nil {
		return nil, err
	}
	hash, err := password.Hash(nu.Password, b.params, b.rand)
	if err != nil {
		return nil, internal("hash password", err)
	}
	id, err := newRandomID(b.rand)
	if err != nil {
		return nil, internal("new user id", err)
	}
	now := b.clock.Now()
	rec := &UserRecord{
		User: User{ID: id, Username: nu.Username, Email: nu.Email, Staff: nu.Staff, Active: true,
			PasswordChangedAt: now, CreatedAt: now},
		PasswordHash: hash,
	}
	if err := b.store.CreateUser(ctx, rec); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, &Error{Code: CodeConflict, Message: "A user with that username already exists.", Field: "username"}
		}
		return nil, internal("create user", err)
	}
	u := rec.User
	return &u, nil
}

// List returns one page of users and the total matching q.
func (b *BuiltinUsers) List(ctx context.Context, q UserQuery) ([]User, int, error) {
	recs, total, err := b.store.ListUsers(ctx, q)
	if err != nil {
		return nil, 0, internal("list users", err)
	}
	out := make([]User, len(recs))
	for i := range recs {
		out[i] = recs[i].User
	}
	return out, total, nil
}

// setPassword stores a new password hash for the user.
func (b *BuiltinUsers) setPassword(ctx context.Context, userID, pw string) error {
	if err := ValidatePassword(pw); err != nil {
		return err
	}
	hash, err := password.Hash(pw, b.params, b.rand)
	if err != nil {
		return internal("hash password", err)
	}
	if err := b.store.SetPassword(ctx, userID, hash, b.clock.Now()); err != nil {
		if errors.Is(err, ErrNotFound) {
			return errNotFound("user")
		}
		return internal("set password", err)
	}
	return nil
}

// ValidateUsername checks a username: 1–150 characters, letters, digits and
// @ . + - _ only.
func ValidateUsername(name string) error {
	if name == "" {
		return errValidation("username", "This field is required.")
	}
	if utf8.RuneCountInString(name) > 150 || !utf8.ValidString(name) {
		return errValidation("username", "Enter a valid username of at most 150 characters.")
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("@.+-_", r)) {
			return errValidation("username", "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.")
		}
	}
	return nil
}

// ValidatePassword checks a new password: at least 8 characters, at most
// 1024 bytes (hashing cost is bounded), valid UTF-8.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) || len(pw) > 1024 {
		return errValidation("password", "Enter a valid password of at most 1024 bytes.")
	}
	if utf8.RuneCountInString(pw) < 8 {
		return errValidation("password", "This password is too short. It must contain at least 8 characters.")
	}
	return nil
}

func validateEmail(email string) error {
	if email == "" {
		return nil
	}
	at := strings.LastIndexByte(email, '@')
	if len(email) > 254 || at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n<>\",;") || !utf8.ValidString(email) {
		return errValidation("email", "Enter a valid email address.")
	}
	return nil
}

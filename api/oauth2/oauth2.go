package oauth2

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	lib "github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/twofactor/twofactor"
)

// DefaultMaxBodyBytes is the default limit of a request body.
const DefaultMaxBodyBytes = 64 << 10

// Config configures a Server.
type Config struct {
	// Service is the core service; required.
	Service *twofactor.Service
	// AccessTTL is the lifetime of access tokens; zero means
	// twofactor.DefaultOAuthAccessTTL (one hour).
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of refresh tokens; zero means
	// twofactor.DefaultOAuthRefreshTTL (30 days).
	RefreshTTL time.Duration
	// MaxBodyBytes limits request bodies; larger ones are refused with
	// 413. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives failures of the service and bugs (never a secret).
	// Nil means slog.Default().
	Logger *slog.Logger
}

// Server serves the OAuth 2.0 endpoints. It is safe for concurrent use.
type Server struct {
	svc     *twofactor.Service
	access  time.Duration
	refresh time.Duration
	maxBody int64
	log     *slog.Logger
	lib     *server.Server
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("oauth2: Config.Service is required")
	}
	if cfg.AccessTTL < 0 || cfg.RefreshTTL < 0 || cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("oauth2: AccessTTL, RefreshTTL and MaxBodyBytes must not be negative")
	}
	s := &Server{svc: cfg.Service, access: cfg.AccessTTL, refresh: cfg.RefreshTTL, maxBody: cfg.MaxBodyBytes, log: cfg.Logger}
	if s.access == 0 {
		s.access = twofactor.DefaultOAuthAccessTTL
	}
	if s.refresh == 0 {
		s.refresh = twofactor.DefaultOAuthRefreshTTL
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.log == nil {
		s.log = slog.Default()
	}

	m := manage.NewManager()
	m.MapClientStorage(clientStore{s})
	m.MapTokenStorage(tokenStore{s})
	m.MapAccessGenerate(generator{s})
	m.SetPasswordTokenCfg(&manage.Config{AccessTokenExp: s.access, RefreshTokenExp: s.refresh, IsGenerateRefresh: true})
	// The core rotates: it uses the old refresh token up and ends the old
	// access token itself, atomically, and keeps the used token to
	// recognise its reuse, so the library must not remove either.
	m.SetRefreshTokenCfg(&manage.RefreshingConfig{AccessTokenExp: s.access, RefreshTokenExp: s.refresh,
		IsGenerateRefresh: true, IsResetRefreshTime: true})

	srv := server.NewServer(&server.Config{
		TokenType:         "Bearer",
		AllowedGrantTypes: []lib.GrantType{lib.PasswordCredentials, lib.Refreshing},
	}, m)
	srv.SetClientInfoHandler(s.clientInfo)
	srv.SetPasswordAuthorizationHandler(s.passwordGrant)
	s.lib = srv
	return s, nil
}

// Handler returns the handler of the three endpoints, at their paths:
// POST /oauth2/token, POST /oauth2/revoke, POST /oauth2/introspect. Other
// methods are 405.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", s.ServeToken)
	mux.HandleFunc("POST /oauth2/revoke", s.ServeRevoke)
	mux.HandleFunc("POST /oauth2/introspect", s.ServeIntrospect)
	return mux
}

// withClient attaches where the request came from to its context, for the
// sign-in rate limit and the audit trail.
func withClient(r *http.Request) *http.Request {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ctx := twofactor.WithClient(r.Context(), twofactor.Client{Address: addr, UserAgent: r.UserAgent()})
	return r.WithContext(ctx)
}

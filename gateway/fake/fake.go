// Package fake is the development gateway (sms.gateway, call.gateway =
// fake): instead of sending a code it writes it to the log, at INFO,
// as the seed's fake gateway did:
//
//	Fake SMS to +31101234567: "Your token is: 012345"
//	Fake call to +31101234567: "Your token is: 012345"
//	Fake email to bouke@example.org: "Your token is: 012345"
//
// This is the one place in twofactor where a code is logged, on purpose:
// anyone who reads the log can sign in as any user with a phone or email
// device. The server prints Warning at start-up when the fake gateway is
// configured; never use it in production.
//
// The gateway also keeps the last messages and notices in memory (Last,
// Messages, Notices) for tests and development, and can be told to fail
// (SetError) to exercise the callers' error paths. It checks its input as
// the real gateways do: an SMS or call number must be E.164 and an email
// address one bare address, else twofactor.ErrInvalidDestination.
package fake

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/phone"
)

// keep is how many messages and notices the gateway remembers.
const keep = 1000

// Via is how a message went out.
type Via string

// The ways a message goes out.
const (
	SMS   Via = "sms"
	Call  Via = "call"
	Email Via = "email"
)

// Sent is a message the gateway "sent".
type Sent struct {
	Via Via
	twofactor.Message
}

// Gateway logs codes instead of sending them. It implements
// twofactor.SMSSender, twofactor.Caller and twofactor.Mailer and is safe
// for concurrent use.
type Gateway struct {
	log *slog.Logger

	mu      sync.Mutex
	sent    []Sent
	notices []twofactor.Notice
	err     error
}

var (
	_ twofactor.SMSSender = (*Gateway)(nil)
	_ twofactor.Caller    = (*Gateway)(nil)
	_ twofactor.Mailer    = (*Gateway)(nil)
)

// New returns a fake gateway logging to logger (slog.Default() when nil).
func New(logger *slog.Logger) *Gateway {
	if logger == nil {
		logger = slog.Default()
	}
	return &Gateway{log: logger}
}

// Warning returns the line the server prints at start-up when the fake
// gateway is in use.
func Warning() string {
	return "WARNING: the fake gateway is in use: codes sent by SMS, call or email are written to the log instead, " +
		"where anyone who reads it can use them. Use it for development only."
}

// SetError makes every send fail with err (wrap twofactor.ErrInvalidDestination
// or twofactor.ErrGatewayUnavailable to act like a real gateway) until
// SetError(nil).
func (g *Gateway) SetError(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.err = err
}

// SendSMS logs the code as a text message to m.To.
func (g *Gateway) SendSMS(ctx context.Context, m twofactor.Message) error {
	return g.send(ctx, SMS, "Fake SMS", m)
}

// Call logs the code as a call to m.To.
func (g *Gateway) Call(ctx context.Context, m twofactor.Message) error {
	return g.send(ctx, Call, "Fake call", m)
}

// SendCode logs the code as an email to m.To.
func (g *Gateway) SendCode(ctx context.Context, m twofactor.Message) error {
	return g.send(ctx, Email, "Fake email", m)
}

// SendNotice logs a notice email to n.To (without any code).
func (g *Gateway) SendNotice(ctx context.Context, n twofactor.Notice) error {
	if err := g.check(ctx, Email, n.To); err != nil {
		return fmt.Errorf("fake: notice: %w", err)
	}
	g.mu.Lock()
	g.notices = appendKept(g.notices, n)
	g.mu.Unlock()
	g.log.InfoContext(ctx, fmt.Sprintf("Fake email to %s: notice %q for %s", n.To, n.Event, n.Site))
	return nil
}

func (g *Gateway) send(ctx context.Context, via Via, what string, m twofactor.Message) error {
	if err := g.check(ctx, via, m.To); err != nil {
		return fmt.Errorf("fake: %s: %w", via, err)
	}
	if !isCode(m.Code) {
		return fmt.Errorf("fake: %s: the code must be 1 to 16 ASCII digits", via)
	}
	g.mu.Lock()
	g.sent = appendKept(g.sent, Sent{Via: via, Message: m})
	g.mu.Unlock()
	g.log.InfoContext(ctx, fmt.Sprintf("%s to %s: %q", what, m.To, "Your token is: "+m.Code))
	return nil
}

// check refuses what a real gateway would refuse.
func (g *Gateway) check(ctx context.Context, via Via, to string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", err, twofactor.ErrGatewayUnavailable)
	}
	g.mu.Lock()
	err := g.err
	g.mu.Unlock()
	if err != nil {
		return err
	}
	if via == Email {
		a, err := mail.ParseAddress(to)
		if err != nil || a.Name != "" || a.Address != to || strings.ContainsAny(to, "\r\n") {
			return fmt.Errorf("not an email address: %w", twofactor.ErrInvalidDestination)
		}
		return nil
	}
	if !phone.IsE164(to) {
		return fmt.Errorf("the number is not in E.164 form: %w", twofactor.ErrInvalidDestination)
	}
	return nil
}

func appendKept[T any](list []T, v T) []T {
	if len(list) >= keep {
		list = append(list[:0], list[len(list)-keep+1:]...)
	}
	return append(list, v)
}

func isCode(s string) bool {
	if len(s) == 0 || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Last returns the last message sent to the number or address, by any
// way.
func (g *Gateway) Last(to string) (twofactor.Message, bool) {
	s, ok := g.LastSent(to)
	return s.Message, ok
}

// LastSent returns the last message sent to the number or address, with
// how it went.
func (g *Gateway) LastSent(to string) (Sent, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := len(g.sent) - 1; i >= 0; i-- {
		if g.sent[i].To == to {
			return g.sent[i], true
		}
	}
	return Sent{}, false
}

// Messages returns the messages sent (the last 1000), oldest first.
func (g *Gateway) Messages() []twofactor.Message {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]twofactor.Message, len(g.sent))
	for i, s := range g.sent {
		out[i] = s.Message
	}
	return out
}

// Sent returns the messages sent (the last 1000) with how each went,
// oldest first.
func (g *Gateway) Sent() []Sent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Sent(nil), g.sent...)
}

// Notices returns the notices sent (the last 1000), oldest first.
func (g *Gateway) Notices() []twofactor.Notice {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]twofactor.Notice(nil), g.notices...)
}

// LastNotice returns the last notice sent to the address.
func (g *Gateway) LastNotice(to string) (twofactor.Notice, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := len(g.notices) - 1; i >= 0; i-- {
		if g.notices[i].To == to {
			return g.notices[i], true
		}
	}
	return twofactor.Notice{}, false
}

// Reset forgets the messages and notices and clears SetError.
func (g *Gateway) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent, g.notices, g.err = nil, nil, nil
}

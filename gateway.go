package twofactor

import (
	"context"
	"errors"
)

// Message is one code to deliver to a user. It carries nothing but the
// code, the site name and where it goes (SPEC §10.11): no username, no
// link, no account detail.
type Message struct {
	// To is an E.164 phone number (sms, call) or an email address.
	To string
	// Code is the code, ASCII digits, leading zeros kept.
	Code string
	// Site names the site the code is for (the issuer).
	Site string
	// Language is the user's language (BCP 47), for the wording and, for
	// calls, the voice.
	Language string
	// CallID identifies a voice call's script: the gateway passes it to the
	// voice provider, whose callback fetches the script by id. The code
	// itself never appears in a URL.
	CallID string
}

// SMSSender sends codes by text message.
type SMSSender interface {
	SendSMS(ctx context.Context, m Message) error
}

// Caller reads codes out by voice call.
type Caller interface {
	Call(ctx context.Context, m Message) error
}

// Notice is an email telling a user about a security event (SPEC §8.3).
type Notice struct {
	To       string
	Site     string
	Language string
	Event    EventKind // backup_code_used, two_factor_disabled, device_added
}

// Mailer sends codes and notices by email.
type Mailer interface {
	SendCode(ctx context.Context, m Message) error
	SendNotice(ctx context.Context, n Notice) error
}

// Gateway failures. A gateway wraps one of these so the core can tell the
// user what happened without knowing the provider.
var (
	// ErrInvalidDestination: the provider refused the number or address
	// itself (Twilio error 21211/21614/21401, a rejected recipient). It
	// becomes a field error on the phone number or email address.
	ErrInvalidDestination = errors.New("twofactor: the provider refused the destination")
	// ErrGatewayUnavailable: the provider failed or could not be reached;
	// nothing was sent. It becomes a 502/503 answer and no half-made device.
	ErrGatewayUnavailable = errors.New("twofactor: the message provider is unavailable")
)

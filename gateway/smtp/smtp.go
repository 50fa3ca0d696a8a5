// Package smtp sends codes and security notices by email (SMTP, with
// github.com/wneessen/go-mail).
//
// [New] makes a [Gateway] from the email.* settings: an email.smtp_url
// ([ParseURL]: smtp:// uses STARTTLS when the server offers it,
// smtp+starttls:// requires it, smtps:// is TLS from the start; a user and
// password in the URL authenticate, over TLS only) and the From address.
// The Gateway implements twofactor.Mailer: SendCode mails a code, SendNotice
// tells the user that a backup code was used, that two-factor
// authentication was turned off, or that a device was added.
//
// The emails are text/template templates (the code email may have an
// html/template alternative) that see the site name and the code (or the
// event) and nothing else — no user name, no link — and translate their
// sentences through a [Translator] into the recipient's language.
//
// A recipient the server refuses (550, 551, 553, 501, or an enhanced
// status 5.1.x) is reported as twofactor.ErrInvalidDestination; a server
// that cannot be reached, refuses the credentials, lacks STARTTLS when it
// is required, or fails otherwise, as twofactor.ErrGatewayUnavailable.
//
// The package never logs, so never a code or the SMTP password, and its
// errors never repeat the password.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	htmltemplate "html/template"
	netmail "net/mail"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/wneessen/go-mail"

	"github.com/twofactor/twofactor"
)

// DefaultTimeout bounds connecting to and talking with the server when
// Config.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Config is the email.* configuration.
type Config struct {
	// URL is email.smtp_url.
	URL string
	// From is the sender (email.from): "Example <no-reply@example.com>"
	// or a bare address.
	From string
	// Subject, Body and HTML are the code email's templates; empty Subject
	// and Body mean DefaultSubject and DefaultBody, an empty HTML means no
	// HTML part (DefaultHTML is one to use).
	Subject, Body, HTML string
	// Notices replaces the templates of some notices (DefaultNotices).
	Notices map[twofactor.EventKind]Templates
	// Translate words the default templates in the recipient's language;
	// nil means English.
	Translate Translator
	// TLSConfig is the base TLS configuration (a test's root CA); its
	// ServerName defaults to the URL's host.
	TLSConfig *tls.Config
	// Timeout bounds a delivery (DefaultTimeout when zero).
	Timeout time.Duration
}

// Gateway sends email. It implements twofactor.Mailer and is safe for
// concurrent use.
type Gateway struct {
	endpoint Endpoint
	from     string
	client   *mail.Client
	tr       Translator
	code     compiled
	notices  map[twofactor.EventKind]compiled
}

var _ twofactor.Mailer = (*Gateway)(nil)

type compiled struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

// New checks the configuration, compiles the templates and returns a
// gateway. It does not connect to the server. Errors name the setting at
// fault.
func New(cfg Config) (*Gateway, error) {
	ep, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	from, err := parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	g := &Gateway{endpoint: ep, from: from, tr: cfg.Translate, notices: map[twofactor.EventKind]compiled{}}
	subject, body := cfg.Subject, cfg.Body
	if subject == "" {
		subject = DefaultSubject
	}
	if body == "" {
		body = DefaultBody
	}
	if g.code, err = compile("code", Templates{Subject: subject, Text: body, HTML: cfg.HTML}); err != nil {
		return nil, err
	}
	// A code email without its code is a configuration error.
	sample := CodeData{Site: "example.com", Code: "8675309"}
	if _, text, html, err := g.code.render(sample); err != nil {
		return nil, fmt.Errorf("email templates: %w", err)
	} else if !strings.Contains(text, sample.Code) || (cfg.HTML != "" && !strings.Contains(html, sample.Code)) {
		return nil, errors.New("email templates: the code email must show {{.Code}}")
	}
	notices := DefaultNotices()
	for kind, tpl := range cfg.Notices {
		notices[kind] = tpl
	}
	for kind, tpl := range notices {
		c, err := compile("notice "+string(kind), tpl)
		if err != nil {
			return nil, err
		}
		if _, _, _, err := c.render(NoticeData{Site: "example.com", Event: kind}); err != nil {
			return nil, fmt.Errorf("email templates: notice %s: %w", kind, err)
		}
		g.notices[kind] = c
	}

	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsCfg = cfg.TLSConfig.Clone()
		if tlsCfg.MinVersion < tls.VersionTLS12 {
			tlsCfg.MinVersion = tls.VersionTLS12
		}
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = ep.Host
	}
	opts := []mail.Option{mail.WithPort(ep.Port), mail.WithTimeout(timeout), mail.WithTLSConfig(tlsCfg)}
	switch ep.Security {
	case Opportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case RequireSTARTTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, mail.WithSSL())
	}
	if ep.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers
		// and refuses PLAIN and LOGIN on a connection without TLS.
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(ep.Username), mail.WithPassword(ep.Password))
	}
	if g.client, err = mail.NewClient(ep.Host, opts...); err != nil {
		return nil, fmt.Errorf("email.smtp_url: %w", err)
	}
	return g, nil
}

// Endpoint returns the parsed server URL (its String hides the password).
func (g *Gateway) Endpoint() Endpoint { return g.endpoint }

func parseFrom(from string) (string, error) {
	if strings.TrimSpace(from) == "" {
		return "", errors.New("email.from: required")
	}
	if strings.ContainsAny(from, "\r\n") {
		return "", errors.New("email.from: a line break is not allowed")
	}
	a, err := netmail.ParseAddress(from)
	if err != nil {
		return "", fmt.Errorf("email.from: not an address: %w", err)
	}
	return a.String(), nil
}

func compile(name string, t Templates) (compiled, error) {
	var c compiled
	var err error
	if c.subject, err = texttemplate.New(name + " subject").Option("missingkey=error").Parse(t.Subject); err != nil {
		return c, fmt.Errorf("email templates: %s subject: %w", name, err)
	}
	if c.text, err = texttemplate.New(name + " text").Option("missingkey=error").Parse(t.Text); err != nil {
		return c, fmt.Errorf("email templates: %s text: %w", name, err)
	}
	if t.HTML != "" {
		if c.html, err = htmltemplate.New(name + " html").Option("missingkey=error").Parse(t.HTML); err != nil {
			return c, fmt.Errorf("email templates: %s html: %w", name, err)
		}
	}
	return c, nil
}

func (c compiled) render(data any) (subject, text, html string, err error) {
	var b strings.Builder
	if err = c.subject.Execute(&b, data); err != nil {
		return "", "", "", err
	}
	// One line, whatever the template or the site name holds.
	subject = strings.Join(strings.FieldsFunc(b.String(), unicode.IsControl), " ")
	b.Reset()
	if err = c.text.Execute(&b, data); err != nil {
		return "", "", "", err
	}
	text = b.String()
	if c.html != nil {
		b.Reset()
		if err = c.html.Execute(&b, data); err != nil {
			return "", "", "", err
		}
		html = b.String()
	}
	return subject, text, html, nil
}

// SendCode mails the code and the site name to m.To.
func (g *Gateway) SendCode(ctx context.Context, m twofactor.Message) error {
	to, err := recipient(m.To)
	if err != nil {
		return fmt.Errorf("smtp: code: %w", err)
	}
	if !isCode(m.Code) {
		return errors.New("smtp: code: the code must be 1 to 16 ASCII digits")
	}
	subject, text, html, err := g.code.render(CodeData{Site: cleanSite(m.Site), Code: m.Code, lang: m.Language, tr: g.tr})
	if err != nil {
		return fmt.Errorf("smtp: code: template: %w", err)
	}
	return g.send(ctx, "code", to, subject, text, html)
}

// SendNotice mails a notice about a security event to n.To. Only the
// events with templates (DefaultNotices) can be sent; others are an error.
func (g *Gateway) SendNotice(ctx context.Context, n twofactor.Notice) error {
	to, err := recipient(n.To)
	if err != nil {
		return fmt.Errorf("smtp: notice: %w", err)
	}
	c, ok := g.notices[n.Event]
	if !ok {
		return fmt.Errorf("smtp: notice: no email for the event %q", n.Event)
	}
	subject, text, html, err := c.render(NoticeData{Site: cleanSite(n.Site), Event: n.Event, lang: n.Language, tr: g.tr})
	if err != nil {
		return fmt.Errorf("smtp: notice: template: %w", err)
	}
	return g.send(ctx, "notice", to, subject, text, html)
}

// recipient checks that s is one bare email address.
func recipient(s string) (string, error) {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "\r\n<>,") {
		return "", fmt.Errorf("not an email address: %w", twofactor.ErrInvalidDestination)
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(a.Address, "@") {
		return "", fmt.Errorf("not an email address: %w", twofactor.ErrInvalidDestination)
	}
	return a.Address, nil
}

func (g *Gateway) send(ctx context.Context, op, to, subject, text, html string) error {
	msg := mail.NewMsg()
	if err := msg.From(g.from); err != nil {
		return fmt.Errorf("smtp: %s: from: %w: %w", op, err, twofactor.ErrGatewayUnavailable)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("smtp: %s: %w", op, twofactor.ErrInvalidDestination)
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(mail.TypeTextPlain, text)
	if html != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, html)
	}
	if err := g.client.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(op, err)
	}
	return nil
}

// classify wraps a go-mail error in one of the core's two gateway failures.
func classify(op string, err error) error {
	var se *mail.SendError
	if errors.As(err, &se) && refusedRecipient(se) {
		return fmt.Errorf("smtp: %s: the server refused the recipient (%d %s): %w",
			op, se.ErrorCode(), se.EnhancedStatusCode(), twofactor.ErrInvalidDestination)
	}
	return fmt.Errorf("smtp: %s: %w: %w", op, err, twofactor.ErrGatewayUnavailable)
}

// refusedRecipient tells a permanent refusal of the address itself from
// other failures: with an enhanced status code, 5.1.x (bad address) or
// 5.2.1 (mailbox disabled); without, 550, 551, 553 or 501 to RCPT TO.
func refusedRecipient(se *mail.SendError) bool {
	switch se.Reason {
	case mail.ErrGetRcpts:
		return true
	case mail.ErrSMTPRcptTo:
	default:
		return false
	}
	if esc := se.EnhancedStatusCode(); esc != "" {
		return strings.HasPrefix(esc, "5.1.") || esc == "5.2.1"
	}
	switch se.ErrorCode() {
	case 501, 550, 551, 553:
		return true
	}
	return false
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

// cleanSite keeps a site name to one line of at most 100 printable
// characters, spaces collapsed.
func cleanSite(site string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(site) {
		if n == 100 {
			break
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

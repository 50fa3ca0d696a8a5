// Package smtptest runs, inside a test, an SMTP server on 127.0.0.1 (with
// github.com/emersion/go-smtp) that keeps the messages it receives, for
// tests of everything that sends email.
//
// The server speaks plain SMTP, SMTP with STARTTLS, or SMTP inside TLS
// from the first byte (WithSecurity), with a self-signed certificate for
// 127.0.0.1 made when it starts; ClientTLS trusts it. WithAuth requires
// AUTH PLAIN with a user name and password before MAIL (offered only over
// TLS, as a real server would). URL gives the twofactor email.smtp_url that
// reaches it.
//
// Each message is kept with its envelope, its parsed headers and its text
// and HTML parts decoded (Messages, Last). Reject makes the server refuse
// a recipient with 550 5.1.1; SetMode(Failing) answers 421 to every
// session; SetMode(Down) stops listening, so connections are refused,
// until SetMode(Up).
//
// The server logs nothing.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security is how clients reach the server.
type Security int

const (
	// Plain is SMTP without TLS (no STARTTLS offered).
	Plain Security = iota
	// StartTLS offers STARTTLS (clients may still go on in plain text).
	StartTLS
	// ImplicitTLS is SMTP inside TLS from the start ("smtps").
	ImplicitTLS
)

// The credentials WithAuth uses when given empty ones.
const (
	User     = "mailer"
	Password = "correct-horse-battery"
)

// Mode is how the server answers.
type Mode int

const (
	// Up accepts mail.
	Up Mode = iota
	// Failing answers every session with 421 (service not available).
	Failing
	// Down does not listen: connections are refused.
	Down
)

// Message is a message the server accepted.
type Message struct {
	// From and To are the envelope (MAIL FROM, RCPT TO).
	From string
	To   []string
	// Header is the message's header.
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// Text and HTML are the decoded text/plain and text/html parts ("" if
	// absent).
	Text string
	HTML string
	// ContentType is the top-level media type (text/plain,
	// multipart/alternative, …).
	ContentType string
	// Raw is the message as received.
	Raw []byte
	// TLS tells whether the message came over TLS, and AuthUser who
	// authenticated ("" if nobody).
	TLS      bool
	AuthUser string
}

// Option configures a Server.
type Option func(*Server)

// WithSecurity chooses plain SMTP, STARTTLS or implicit TLS (default
// Plain).
func WithSecurity(s Security) Option { return func(srv *Server) { srv.Security = s } }

// WithAuth requires AUTH PLAIN with this user and password (User and
// Password when both are empty).
func WithAuth(user, password string) Option {
	return func(srv *Server) {
		if user == "" && password == "" {
			user, password = User, Password
		}
		srv.user, srv.password = user, password
	}
}

// Server is a running SMTP server.
type Server struct {
	// Addr is host:port, Host and Port its parts.
	Addr string
	Host string
	Port int
	// Security is how it is reached.
	Security Security

	user, password string
	srv            *smtp.Server
	roots          *x509.CertPool

	mu       sync.Mutex
	mode     Mode
	listener net.Listener
	rejects  map[string]bool
	messages []Message
	wg       sync.WaitGroup
}

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{rejects: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	cert, roots, err := selfSigned()
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	s.roots = roots
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.MaxRecipients = 50
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if s.Security != Plain {
		s.srv.TLSConfig = tlsCfg
	}
	l, err := s.listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.Addr = l.Addr().String()
	host, port, _ := net.SplitHostPort(s.Addr)
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	s.serve(l)
	t.Cleanup(s.Close)
	return s
}

func (s *Server) listen(addr string) (net.Listener, error) {
	if s.Security == ImplicitTLS {
		return tls.Listen("tcp", addr, s.srv.TLSConfig)
	}
	return net.Listen("tcp", addr)
}

func (s *Server) serve(l net.Listener) {
	s.mu.Lock()
	s.listener = l
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(l)
	}()
}

// Close stops the server.
func (s *Server) Close() {
	_ = s.srv.Close()
	// Serve may not have registered the listener with the server yet.
	s.mu.Lock()
	l := s.listener
	s.mu.Unlock()
	_ = l.Close()
	s.wg.Wait()
}

// SetMode switches how the server answers. Going Down closes the listening
// socket (connections in progress finish); going Up again listens on the
// same address.
func (s *Server) SetMode(m Mode) error {
	s.mu.Lock()
	prev, l := s.mode, s.listener
	s.mode = m
	s.mu.Unlock()
	switch {
	case m == Down && prev != Down:
		err := l.Close()
		s.wg.Wait()
		return err
	case m != Down && prev == Down:
		l, err := s.listen(s.Addr)
		if err != nil {
			return fmt.Errorf("smtptest: listen again on %s: %w", s.Addr, err)
		}
		s.serve(l)
	}
	return nil
}

// Reject makes the server refuse the recipient address (case-insensitive)
// with 550 5.1.1.
func (s *Server) Reject(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[strings.ToLower(addr)] = true
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Last returns the last message accepted for the recipient.
func (s *Server) Last(to string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.messages) - 1; i >= 0; i-- {
		for _, rcpt := range s.messages[i].To {
			if strings.EqualFold(rcpt, to) {
				return s.messages[i], true
			}
		}
	}
	return Message{}, false
}

// ClientTLS returns a TLS configuration that trusts the server's
// certificate.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.roots, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// URL returns an email.smtp_url for the server: smtp:// for Plain,
// smtp+starttls:// for StartTLS, smtps:// for ImplicitTLS, with the
// credentials when WithAuth was given.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	switch s.Security {
	case StartTLS:
		u.Scheme = "smtp+starttls"
	case ImplicitTLS:
		u.Scheme = "smtps"
	}
	if s.user != "" {
		u.User = url.UserPassword(s.user, s.password)
	}
	return u.String()
}

type backend struct{ s *Server }

// NewSession starts a session, or refuses it when the server is failing.
func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.s.mu.Lock()
	mode := b.s.mode
	b.s.mu.Unlock()
	if mode == Failing {
		return nil, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service not available"}
	}
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, tls: isTLS, conn: c}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

// AuthMechanisms offers PLAIN when the server wants authentication.
func (x *session) AuthMechanisms() []string {
	if x.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks AUTH PLAIN against the server's credentials.
func (x *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || x.s.user == "" {
		return nil, &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: "Unrecognized authentication type"}
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		okUser := subtle.ConstantTimeCompare([]byte(user), []byte(x.s.user)) == 1
		okPass := subtle.ConstantTimeCompare([]byte(pass), []byte(x.s.password)) == 1
		if !okUser || !okPass || (identity != "" && identity != user) {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		x.user = user
		return nil
	}), nil
}

// Mail starts a message, once the client authenticated if it must.
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.user != "" && x.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	x.from = from
	return nil
}

// Rcpt adds a recipient unless it is refused.
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	rejected := x.s.rejects[strings.ToLower(to)]
	x.s.mu.Unlock()
	if rejected {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	x.to = append(x.to, to)
	return nil
}

// Data receives and keeps the message.
func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Malformed message: " + err.Error()}
	}
	m.From, m.To, m.TLS, m.AuthUser = x.from, append([]string(nil), x.to...), x.tls, x.user
	if !x.tls {
		// STARTTLS happened after the session began.
		_, m.TLS = x.conn.TLSConnectionState()
	}
	x.s.mu.Lock()
	x.s.messages = append(x.s.messages, m)
	x.s.mu.Unlock()
	return nil
}

// Reset forgets the message in progress.
func (x *session) Reset() { x.from, x.to = "", nil }

// Logout ends the session.
func (x *session) Logout() error { return nil }

// parse reads a message's headers and its text and HTML parts.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Header: msg.Header, Raw: raw}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Message{}, fmt.Errorf("subject: %w", err)
	}
	ct := msg.Header.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return Message{}, fmt.Errorf("content type: %w", err)
	}
	m.ContentType = mt
	body, err := decodeBody(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
	if err != nil {
		return Message{}, err
	}
	if err := collect(&m, mt, params, body, 0); err != nil {
		return Message{}, err
	}
	return m, nil
}

func collect(m *Message, mt string, params map[string]string, body []byte, depth int) error {
	if depth > 5 {
		return errors.New("multipart nested too deep")
	}
	switch {
	case mt == "text/plain" && m.Text == "":
		m.Text = string(body)
	case mt == "text/html" && m.HTML == "":
		m.HTML = string(body)
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			pct := p.Header.Get("Content-Type")
			if pct == "" {
				pct = "text/plain"
			}
			pmt, pparams, err := mime.ParseMediaType(pct)
			if err != nil {
				return fmt.Errorf("part content type: %w", err)
			}
			pb, err := decodeBody(p, p.Header.Get("Content-Transfer-Encoding"))
			if err != nil {
				return err
			}
			if err := collect(m, pmt, pparams, pb, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func decodeBody(r io.Reader, cte string) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{r})
	case "", "7bit", "8bit", "binary":
	default:
		return nil, fmt.Errorf("unknown transfer encoding %q", cte)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	return b, nil
}

// newlineStripper drops CR and LF, for base64 bodies.
type newlineStripper struct{ r io.Reader }

// Read reads from the underlying reader without line breaks.
func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a
// day, and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

package smtp

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Security is how the connection to the mail server is protected.
type Security int

const (
	// Opportunistic (smtp://) uses STARTTLS when the server offers it and
	// plain SMTP otherwise. Credentials are only sent over TLS.
	Opportunistic Security = iota
	// RequireSTARTTLS (smtp+starttls://) fails unless the server offers
	// STARTTLS.
	RequireSTARTTLS
	// ImplicitTLS (smtps://) speaks TLS from the first byte.
	ImplicitTLS
)

// String returns the URL scheme of the security.
func (s Security) String() string {
	switch s {
	case Opportunistic:
		return "smtp"
	case RequireSTARTTLS:
		return "smtp+starttls"
	case ImplicitTLS:
		return "smtps"
	}
	return "Security(" + strconv.Itoa(int(s)) + ")"
}

// Endpoint is a parsed email.smtp_url.
type Endpoint struct {
	Host     string
	Port     int
	Security Security
	// Username and Password authenticate (AUTH) when Username is set.
	Username string
	Password string
}

// String returns the endpoint as a URL with the password hidden, for
// logs and messages.
func (e Endpoint) String() string {
	u := url.URL{Scheme: e.Security.String(), Host: joinHostPort(e.Host, e.Port)}
	if e.Username != "" {
		u.User = url.UserPassword(e.Username, "xxxxx")
	}
	return u.String()
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// hostRE is a DNS name in ASCII (an internationalised one in its xn--
// form).
var hostRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$`)

// validHost accepts an IP address (IPv6 only in brackets) or a host name.
func validHost(host string, bracketed bool) bool {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Is6() == bracketed && ip.Zone() == ""
	}
	return !bracketed && hostRE.MatchString(host)
}

// The default port of each scheme: SMTP relay, submission, submissions.
var defaultPorts = map[Security]int{Opportunistic: 25, RequireSTARTTLS: 587, ImplicitTLS: 465}

// ParseURL reads an email.smtp_url: smtp://[user[:password]@]host[:port]
// (STARTTLS when offered; port 25 by default), smtp+starttls://… (STARTTLS
// required; port 587) or smtps://… (TLS from the start; port 465). User
// name and password are percent-decoded. Errors say what is wrong and
// never repeat the password.
func ParseURL(raw string) (Endpoint, error) {
	if strings.TrimSpace(raw) == "" {
		return Endpoint{}, errors.New("email.smtp_url: empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only
		// the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Endpoint{}, fmt.Errorf("email.smtp_url: not a URL: %w", err)
	}
	var e Endpoint
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		e.Security = Opportunistic
	case "smtp+starttls":
		e.Security = RequireSTARTTLS
	case "smtps":
		e.Security = ImplicitTLS
	case "":
		return Endpoint{}, errors.New("email.smtp_url: the scheme is missing (want smtp://, smtp+starttls:// or smtps://)")
	default:
		return Endpoint{}, fmt.Errorf("email.smtp_url: unknown scheme %q (want smtp, smtp+starttls or smtps)", u.Scheme)
	}
	if u.Opaque != "" {
		return Endpoint{}, errors.New("email.smtp_url: want scheme://host:port")
	}
	e.Host = u.Hostname()
	if e.Host == "" {
		return Endpoint{}, errors.New("email.smtp_url: the host is missing")
	}
	if !validHost(e.Host, strings.HasPrefix(u.Host, "[")) {
		return Endpoint{}, errors.New("email.smtp_url: the host is neither a host name nor an IP address (IPv6 in brackets)")
	}
	e.Port = defaultPorts[e.Security]
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Endpoint{}, fmt.Errorf("email.smtp_url: bad port %q (want 1 to 65535)", p)
		}
		e.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return Endpoint{}, errors.New("email.smtp_url: bad port \"\" (want 1 to 65535)")
	}
	if u.Path != "" && u.Path != "/" {
		return Endpoint{}, errors.New("email.smtp_url: a path is not allowed")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return Endpoint{}, errors.New("email.smtp_url: a query or fragment is not allowed")
	}
	if u.User != nil {
		e.Username = u.User.Username()
		pw, ok := u.User.Password()
		switch {
		case e.Username == "":
			return Endpoint{}, errors.New("email.smtp_url: the user name is empty")
		case !ok || pw == "":
			return Endpoint{}, errors.New("email.smtp_url: a user name without a password")
		}
		e.Password = pw
	}
	return e, nil
}

package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
)

// deviceView is a device as the account pages show it.
type deviceView struct {
	ID     string
	Name   string
	Kind   string // English id of the kind's label
	Action string // English id: how this device is used at sign-in
	// Destination is where the device's codes go, masked ("" for
	// devices that make their own).
	Destination string
	// Phone marks a phone (sms, call): the profile lists it with the
	// backup phones.
	Phone     bool
	Primary   bool
	Confirmed bool
	Created   time.Time
	LastUsed  time.Time
}

// browserView is a remembered browser as the profile shows it.
type browserView struct {
	ID        string
	UserAgent string
	Address   string
	Created   time.Time
	LastUsed  time.Time
	Expires   time.Time
	Current   bool // this very browser
}

// profilePage is the data of the account security page.
type profilePage struct {
	Enabled      bool
	Primary      *deviceView
	Others       []deviceView
	Pending      []deviceView
	BackupCodes  int
	Browsers     []browserView
	RememberOn   bool
	PhoneMethods bool
	// Phones are the confirmed phones besides the primary device (the
	// seed's backup phones), each with "Unregister".
	Phones []deviceView
}

// kindLabel names a device kind.
func kindLabel(k twofactor.Kind) string {
	switch k {
	case twofactor.KindTOTP:
		return msg("Token generator")
	case twofactor.KindHOTP:
		return msg("Hardware token")
	case twofactor.KindStatic:
		return msg("Backup codes")
	case twofactor.KindSMS:
		return msg("Text message")
	case twofactor.KindCall:
		return msg("Phone call")
	case twofactor.KindEmail:
		return msg("Email")
	case twofactor.KindYubiKey:
		return msg("YubiKey")
	case twofactor.KindWebAuthn:
		return msg("Security key")
	}
	return msg("Authentication device")
}

func (h *Handler) viewDevice(d *twofactor.Device) deviceView {
	return deviceView{ID: d.ID, Name: d.Name, Kind: kindLabel(d.Kind), Action: h.action(d.Kind),
		Destination: d.MaskedDestination(), Phone: isPhone(d.Kind),
		Primary: d.Primary && d.Confirmed, Confirmed: d.Confirmed, Created: d.CreatedAt, LastUsed: d.LastUsedAt}
}

// isPhone reports whether devices of kind k are phones (sms, call).
func isPhone(k twofactor.Kind) bool {
	return k == twofactor.KindSMS || k == twofactor.KindCall
}

// profile is the account security page: the primary method, the other
// devices, the backup codes left, the remembered browsers, and a link to
// every action.
func (h *Handler) profile(w http.ResponseWriter, r *http.Request) {
	a := h.account(w, r)
	if a == nil {
		return
	}
	ctx := r.Context()
	st, err := h.svc.Status(ctx, a.user.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	browsers, err := h.svc.Browsers(ctx, a.user.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	data := profilePage{Enabled: st.Enabled, BackupCodes: st.BackupCodes, RememberOn: h.svc.Options().RememberAge > 0,
		PhoneMethods: h.phoneMethods(r)}
	for i := range st.Devices {
		dv := h.viewDevice(&st.Devices[i])
		switch {
		case dv.Primary:
			data.Primary = &dv
		case dv.Confirmed && dv.Phone:
			data.Phones = append(data.Phones, dv)
		case dv.Confirmed:
			data.Others = append(data.Others, dv)
		default:
			data.Pending = append(data.Pending, dv)
		}
	}
	mine := map[string]bool{}
	for _, c := range r.Cookies() {
		if id, _, ok := parseRememberCookie(h.cfg.Remember.Prefix, c.Name, c.Value); ok {
			mine[id] = true
		}
	}
	now := h.svc.Now()
	for _, b := range browsers {
		if !now.Before(b.ExpiresAt) {
			continue
		}
		data.Browsers = append(data.Browsers, browserView{ID: b.ID, UserAgent: shorten(b.UserAgent, 120), Address: b.Address,
			Created: b.CreatedAt, LastUsed: b.LastUsedAt, Expires: b.ExpiresAt, Current: mine[b.ID]})
	}
	p := h.newPage(r, msg("Account Security"), data)
	p.Banner = h.policyBanner(r, a.user)
	h.render(w, r, http.StatusOK, "profile.html", p)
}

// phoneMethods reports whether a method sending codes to a phone is
// available.
func (h *Handler) phoneMethods(r *http.Request) bool {
	for _, m := range h.available(r) {
		if m.Phone {
			return true
		}
	}
	return false
}

// shorten cuts s to n runes with an ellipsis.
func shorten(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

package web

// The staff console (SPEC §8.1): /admin/ lists the users with their
// two-factor state and shows the adoption figures; /admin/users/{id}/
// shows one user's devices and recent audit events and offers to disable
// two-factor for them.
//
// Access: anonymous → the sign-in page with next; signed in but not staff
// (Service.RequireStaff decides) → 403. With Config.AdminRequireVerified
// (the default) a staff session not verified by a second factor is sent to
// sign in again, or — staff without two-factor — shown a 403 page asking to
// set it up first (admin_setup.html). Disabling a user's two-factor always
// needs the staff member's own fresh verification (Service.AdminDisable).
//
// Element hooks, kept stable for browser tests:
//
//	#admin-adoption         adoption section: #adoption-facts (dl),
//	                        svg#adoption-chart (role=img), table#adoption-table
//	form#admin-search       GET search form, input#id_q (name q)
//	#admin-total            the number of users matching the search
//	table#admin-users       one tr[data-user-id] per user; a.user links to the user page
//	nav.pager               a[rel=prev], a[rel=next], #admin-page ("Page 1 of 2")
//	#admin-search-errors    the search field's errors
//	#admin-profile          the user page's dl of profile fields
//	table#admin-devices     the user's devices (no key is ever shown)
//	#admin-backup-codes     backup codes remaining
//	table#admin-events      recent audit events, newest first
//	#admin-notice           notice after a change (role=status)
//	form.disable            POST …/disable/: input#id_understand (name understand),
//	                        input#id_token (name token, only when step-up is needed),
//	                        button[name=send] (a primary that receives codes),
//	                        button.webauthn-stepup (a security key),
//	                        button#admin-disable-submit
//	#admin-own-setup        shown instead of #id_token to staff without two-factor
//	#admin-setup-required   the page for staff without two-factor

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
)

const (
	// adminPageSize is the number of users per page of the list.
	adminPageSize = 25
	// adminMaxPage bounds the page parameter (and so the offset).
	adminMaxPage = 1 << 20
	// adminMaxSearch bounds the search text, in bytes (an email address is
	// at most 254 characters).
	adminMaxSearch = 254
	// adminEvents is how many recent events the user page shows.
	adminEvents = 50
)

// adminRoutes are the staff console's pages, relative to BasePath.
func (h *Handler) adminRoutes() []route {
	return []route{
		{"GET", "/admin/", h.adminHome},
		{"GET", "/admin/users/{id}/", h.adminUser},
		{"POST", "/admin/users/{id}/disable/", h.adminDisable},
	}
}

// adminRequireVerified reports whether the console needs a session
// verified by a second factor.
func (h *Handler) adminRequireVerified() bool {
	return h.cfg.AdminRequireVerified == nil || *h.cfg.AdminRequireVerified
}

// staffReq is a request the console lets through.
type staffReq struct {
	st    *RequestState
	staff *twofactor.User
}

// staffOnly lets a request use the console, or answers it itself and
// returns nil. next is where to come back after signing in.
func (h *Handler) staffOnly(w http.ResponseWriter, r *http.Request, next string) *staffReq {
	st := State(r)
	ctx := r.Context()
	if st.err != nil {
		h.fail(w, r, st.err, inAction, nil)
		return nil
	}
	if !st.IsAuthenticated() {
		h.adminLogin(w, r, next)
		return nil
	}
	u, err := h.svc.RequireStaff(ctx, st.session.Actor())
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return nil
	}
	st.mu.Lock()
	st.user, st.userErr, st.loaded = u, nil, true
	st.mu.Unlock()
	if !st.IsVerified() && h.adminRequireVerified() {
		enabled, err := h.svc.Enabled(ctx, u.ID)
		if err != nil {
			h.fail(w, r, err, inAction, nil)
			return nil
		}
		if enabled { // sign in again, with the second factor this time
			h.adminLogin(w, r, next)
			return nil
		}
		p := h.newPage(r, msg("Two-factor authentication required"), adminSetupPage{SetupURL: h.setupURL(next)})
		h.render(w, r, http.StatusForbidden, "admin_setup.html", p)
		return nil
	}
	return &staffReq{st: st, staff: u}
}

// adminLogin redirects to the sign-in page, to come back to next.
func (h *Handler) adminLogin(w http.ResponseWriter, r *http.Request, next string) {
	to := h.cfg.LoginURL
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	redirect(w, r, to+sep+"next="+url.QueryEscape(next), http.StatusFound)
}

// consoleData marks the data of the console's pages, which use the wide
// layout.
type consoleData interface{ console() }

// Wide reports whether the page uses the wide layout (the console's
// tables).
func (p *page) Wide() bool {
	_, ok := p.Data.(consoleData)
	return ok
}

// adminSetupPage is the data of the page asking staff to set up
// two-factor first.
type adminSetupPage struct {
	SetupURL string
}

// adminHomePage is the data of the console's main page.
type adminHomePage struct {
	Query       string
	Users       []adminUserRow
	Total       int
	Page, Pages int
	PrevURL     string
	NextURL     string
	Adoption    adoptionView
}

func (adminHomePage) console() {}

// adminUserRow is one user of the list.
type adminUserRow struct {
	ID       string
	Username string
	Email    string
	Staff    bool
	Enabled  bool
	Kinds    []string // English ids of the kinds' labels
	LastUsed time.Time
	URL      string
}

// adoptionView is the adoption figures: the numbers, and the chart that
// draws them.
type adoptionView struct {
	Users   int
	Enabled int
	Percent int
	Rows    []adoptionRow
	Chart   chartView
}

// adoptionRow is one line of the adoption table and one bar of the chart.
type adoptionRow struct {
	Label   string // English id
	Count   int
	Percent int
	Total   bool // the row of all methods together
}

// chartView is a horizontal bar chart drawn in SVG: each bar has its label
// above it and its value after its track. The numbers are SVG user units.
type chartView struct {
	Width, Height int
	BarMax        int
	BarHeight     int
	Bars          []chartBar
}

// chartBar is one bar of the chart.
type chartBar struct {
	adoptionRow
	LabelY, BarY, Width, ValueX, ValueY int
}

// Chart geometry.
const (
	chartWidth     = 480
	chartBarMax    = 360
	chartRow       = 44
	chartBarHeight = 16
)

// adoption computes the figures and the chart.
func adoption(a twofactor.Adoption) adoptionView {
	v := adoptionView{Users: a.Users, Enabled: a.Enabled, Percent: percent(a.Enabled, a.Users)}
	v.Rows = append(v.Rows, adoptionRow{Label: msg("Any method"), Count: a.Enabled, Percent: v.Percent, Total: true})
	for _, k := range twofactor.Kinds {
		if n := a.ByKind[k]; n > 0 {
			v.Rows = append(v.Rows, adoptionRow{Label: kindLabel(k), Count: n, Percent: percent(n, a.Users)})
		}
	}
	c := chartView{Width: chartWidth, BarMax: chartBarMax, BarHeight: chartBarHeight}
	for i, row := range v.Rows {
		top := i * chartRow
		w := 0
		if a.Users > 0 {
			w = min(chartBarMax, row.Count*chartBarMax/a.Users)
		}
		if row.Count > 0 && w < 2 {
			w = 2 // a few users still show
		}
		c.Bars = append(c.Bars, chartBar{adoptionRow: row, LabelY: top + 14, BarY: top + 20, Width: w,
			ValueX: chartBarMax + 8, ValueY: top + 20 + chartBarHeight - 3})
	}
	c.Height = max(1, len(v.Rows)) * chartRow
	v.Chart = c
	return v
}

// percent is part of whole in whole percent, rounded.
func percent(part, whole int) int {
	if whole <= 0 {
		return 0
	}
	return (part*200 + whole) / (2 * whole)
}

// adminHome lists the users (search q, page) and shows the adoption
// figures.
func (h *Handler) adminHome(w http.ResponseWriter, r *http.Request) {
	s := h.staffOnly(w, r, r.URL.RequestURI())
	if s == nil {
		return
	}
	ctx := r.Context()
	query := r.URL.Query()
	f := newForm()
	data := adminHomePage{Page: 1, Pages: 1}
	q := strings.TrimSpace(query.Get("q"))
	f.set("q", q)
	if !validText(q, adminMaxSearch) || strings.ContainsFunc(q, isControl) {
		f.fieldError("q", h.localizer(r).T("Enter a search of at most %d characters, without control characters.", adminMaxSearch))
		if len(q) > adminMaxSearch {
			f.set("q", q[:adminMaxSearch]) // shown again cut short
		}
		q = ""
	}
	data.Query = q
	if n, err := strconv.Atoi(query.Get("page")); err == nil && n >= 1 && n <= adminMaxPage {
		data.Page = n
	}
	a, err := h.svc.Adoption(ctx)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	data.Adoption = adoption(a)
	if !f.HasErrors() {
		users, total, err := h.listUsers(r, q, &data.Page)
		if err != nil {
			h.fail(w, r, err, inAction, nil)
			return
		}
		data.Users, data.Total = users, total
		data.Pages = max(1, (total+adminPageSize-1)/adminPageSize)
		link := func(page int) string {
			v := url.Values{}
			if q != "" {
				v.Set("q", q)
			}
			if page > 1 {
				v.Set("page", strconv.Itoa(page))
			}
			if len(v) == 0 {
				return h.path("/admin/")
			}
			return h.path("/admin/") + "?" + v.Encode()
		}
		if data.Page > 1 {
			data.PrevURL = link(data.Page - 1)
		}
		if data.Page < data.Pages {
			data.NextURL = link(data.Page + 1)
		}
	}
	p := h.newPage(r, msg("Staff console"), data)
	p.Form = f
	h.render(w, r, http.StatusOK, "admin.html", p)
}

// listUsers reads one page of users with their two-factor state. A page
// past the end shows the last one.
func (h *Handler) listUsers(r *http.Request, q string, page *int) ([]adminUserRow, int, error) {
	ctx := r.Context()
	b := h.svc.Builtin()
	list := func() ([]twofactor.User, int, error) {
		return b.List(ctx, twofactor.UserQuery{Search: q, Offset: (*page - 1) * adminPageSize, Limit: adminPageSize})
	}
	users, total, err := list()
	if err != nil {
		return nil, 0, err
	}
	if last := max(1, (total+adminPageSize-1)/adminPageSize); *page > last {
		*page = last
		if users, total, err = list(); err != nil {
			return nil, 0, err
		}
	}
	rows := make([]adminUserRow, 0, len(users))
	for i := range users {
		u := &users[i]
		st, err := h.svc.Status(ctx, u.ID)
		if err != nil {
			return nil, 0, err
		}
		row := adminUserRow{ID: u.ID, Username: u.Username, Email: u.Email, Staff: u.Staff, Enabled: st.Enabled,
			URL: h.path("/admin/users/" + url.PathEscape(u.ID) + "/")}
		have := map[twofactor.Kind]bool{}
		for j := range st.Devices {
			d := &st.Devices[j]
			if d.Confirmed {
				have[d.Kind] = true
			}
			if d.LastUsedAt.After(row.LastUsed) {
				row.LastUsed = d.LastUsedAt
			}
		}
		if st.BackupCodes > 0 {
			have[twofactor.KindStatic] = true
		}
		if bd := st.BackupDevice; bd != nil && bd.LastUsedAt.After(row.LastUsed) {
			row.LastUsed = bd.LastUsedAt
		}
		for _, k := range twofactor.Kinds {
			if have[k] {
				row.Kinds = append(row.Kinds, kindLabel(k))
			}
		}
		rows = append(rows, row)
	}
	return rows, total, nil
}

// isControl reports a control character (search text has none).
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

// adminUserPage is the data of one user's page.
type adminUserPage struct {
	User        *twofactor.User
	Enabled     bool
	Devices     []deviceView
	BackupCodes int
	HasBackup   bool
	Events      []eventView
	CanDisable  bool   // there is something to disable
	DisableURL  string // the disable form's action
	OwnSetupURL string // the staff member has no two-factor: set it up first
	Notice      string // English id
}

func (adminUserPage) console() {}

// eventView is an audit event as the user page shows it. Label fields hold
// English ids; the raw fields what the trail recorded.
type eventView struct {
	Time       time.Time
	Kind       string // English id, "" for a kind this version does not know
	KindCode   string
	DeviceKind string // English id, "" when no device was involved
	Outcome    string // English id, "" for an unknown outcome
	OutcomeRaw string
	Reason     string
	Address    string
	UserAgent  string
}

// eventLabel names an event kind ("" when unknown).
func eventLabel(k twofactor.EventKind) string {
	switch k {
	case twofactor.EventUserVerified:
		return msg("Verified with a second factor")
	case twofactor.EventVerificationFailed:
		return msg("Verification failed")
	case twofactor.EventThrottled:
		return msg("Verification throttled")
	case twofactor.EventDeviceAdded:
		return msg("Device added")
	case twofactor.EventDeviceRemoved:
		return msg("Device removed")
	case twofactor.EventPrimaryChanged:
		return msg("Primary device changed")
	case twofactor.EventBackupCodeUsed:
		return msg("Backup code used")
	case twofactor.EventBackupCodesRegenerated:
		return msg("Backup codes regenerated")
	case twofactor.EventTwoFactorDisabled:
		return msg("Two-factor authentication disabled")
	case twofactor.EventBrowserRemembered:
		return msg("Browser remembered")
	case twofactor.EventBrowserRevoked:
		return msg("Remembered browser revoked")
	case twofactor.EventAdminDisabledUser:
		return msg("Disabled by staff")
	}
	return ""
}

// outcomeLabel names an outcome ("" when unknown).
func outcomeLabel(o twofactor.Outcome) string {
	switch o {
	case twofactor.OutcomeSuccess:
		return msg("Success")
	case twofactor.OutcomeFailure:
		return msg("Failure")
	case twofactor.OutcomeRefused:
		return msg("Refused")
	}
	return ""
}

// adminTarget returns the user named by the path, answering 404 for an
// id that cannot be one or names nobody.
func (h *Handler) adminTarget(w http.ResponseWriter, r *http.Request) *twofactor.User {
	id := r.PathValue("id")
	if !token(id, 1, 64) {
		h.errorPage(w, r, http.StatusNotFound, "")
		return nil
	}
	u, err := h.svc.Users().UserByID(r.Context(), id)
	if err == nil && u == nil {
		err = twofactor.ErrNotFound
	}
	if err != nil {
		h.fail(w, r, userError(err), inAction, nil)
		return nil
	}
	return u
}

// adminUserURL is the console's page of a user.
func (h *Handler) adminUserURL(id string) string {
	return h.path("/admin/users/" + url.PathEscape(id) + "/")
}

// adminUser shows one user: profile, devices, backup codes left, recent
// events, and the form to disable two-factor.
func (h *Handler) adminUser(w http.ResponseWriter, r *http.Request) {
	s := h.staffOnly(w, r, r.URL.RequestURI())
	if s == nil {
		return
	}
	u := h.adminTarget(w, r)
	if u == nil {
		return
	}
	notice := ""
	if r.URL.Query().Get("notice") == "disabled" {
		notice = msg("Two-factor authentication was disabled for this user.")
	}
	h.renderAdminUser(w, r, s, u, newForm(), notice)
}

func (h *Handler) renderAdminUser(w http.ResponseWriter, r *http.Request, s *staffReq, u *twofactor.User, f *form, notice string) {
	ctx := r.Context()
	st, err := h.svc.Status(ctx, u.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	events, err := h.svc.Events(ctx, u.ID, adminEvents)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	data := adminUserPage{User: u, Enabled: st.Enabled, BackupCodes: st.BackupCodes, HasBackup: st.BackupDevice != nil,
		DisableURL: h.path("/admin/users/" + url.PathEscape(u.ID) + "/disable/")}
	for i := range st.Devices {
		data.Devices = append(data.Devices, h.viewDevice(&st.Devices[i]))
	}
	data.CanDisable = st.Enabled || len(st.Devices) > 0 || st.BackupDevice != nil || f.HasErrors()
	if notice != "" && !st.Enabled { // the notice only ever states what is true
		data.Notice = notice
	}
	for _, e := range events {
		ev := eventView{Time: e.Time, Kind: eventLabel(e.Kind), KindCode: string(e.Kind), Outcome: outcomeLabel(e.Outcome),
			OutcomeRaw: shorten(string(e.Outcome), 40), Reason: shorten(e.Reason, 200), Address: shorten(e.Address, 100),
			UserAgent: shorten(e.UserAgent, 200)}
		if e.DeviceKind != "" {
			ev.DeviceKind = kindLabel(e.DeviceKind)
		}
		data.Events = append(data.Events, ev)
	}
	// The staff member's own verification: asked when it is not fresh;
	// without two-factor of their own they must set it up first.
	staffEnabled, err := h.svc.Enabled(ctx, s.staff.ID)
	if err != nil {
		h.fail(w, r, err, inAction, nil)
		return
	}
	var stepUp *stepUpView
	if staffEnabled {
		if data.CanDisable {
			stepUp = h.stepUpFor(r, s.st.session, s.staff.ID, f, false)
		}
	} else {
		data.OwnSetupURL = h.setupURL(h.adminUserURL(u.ID))
	}
	p := h.newPage(r, msg("User details"), data)
	p.Form = f
	p.setStepUp(stepUp)
	h.render(w, r, http.StatusOK, "admin_user.html", p)
}

// adminDisable turns two-factor off for a user: the box "understand" must
// be ticked, and the staff member's own code is checked first when given
// (step-up); Service.AdminDisable demands a fresh verification anyway.
func (h *Handler) adminDisable(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	id := r.PathValue("id")
	back := h.path("/admin/")
	if token(id, 1, 64) {
		back = h.adminUserURL(id)
	}
	s := h.staffOnly(w, r, back)
	if s == nil {
		return
	}
	u := h.adminTarget(w, r)
	if u == nil {
		return
	}
	ctx := r.Context()
	f := newForm()
	f.Action = "disable"
	if r.PostForm.Get("understand") == "" && r.PostForm.Get("send") == "" {
		f.fieldError("understand", h.localizer(r).T("This field is required."))
		h.renderAdminUser(w, r, s, u, f, "")
		return
	}
	if r.PostForm.Get("understand") != "" {
		f.set("understand", "on")
	}
	if stop, err := h.stepUp(r, s.st.session, s.staff.ID, f); stop || err != nil {
		if err == nil || !h.fail(w, r, err, inStepUp, f) {
			h.renderAdminUser(w, r, s, u, f, "")
		}
		return
	}
	if err := h.svc.AdminDisable(ctx, s.st.session.Actor(), u.ID); err != nil {
		if !h.fail(w, r, err, inStepUp, f) {
			h.renderAdminUser(w, r, s, u, f, "")
		}
		return
	}
	redirect(w, r, h.adminUserURL(u.ID)+"?notice=disabled", http.StatusSeeOther)
}

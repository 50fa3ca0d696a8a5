package web

import (
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/secret"
)

// staffKey is the TOTP key of the staff member's own device.
var staffKey = []byte("staffstaffstaffstaff")

// targetKey is the TOTP key of the user the console looks at.
var targetKey = []byte("targettargettargetta")

// withoutAdminVerified sets AdminRequireVerified to false.
var withoutAdminVerified = envOpts{web: func(c *Config) {
	f := false
	c.AdminRequireVerified = &f
}}

// adminEnv is a staff member "root" signed in with their own TOTP device,
// and a user "target" with TOTP and backup codes.
func adminEnv(t testing.TB, o ...envOpts) (e *env, c *client, root, target *twofactor.User) {
	t.Helper()
	e = newEnv(t, o...)
	root = e.staff("root")
	e.totp(root, staffKey, "Staff phone")
	target = e.user("target")
	e.totp(target, targetKey, "Target phone")
	e.backupCodes(target)
	c = e.client()
	c.signIn("root", staffKey)
	return e, c, root, target
}

// userPath is the console's page of u.
func userPath(u *twofactor.User) string { return "/admin/users/" + u.ID + "/" }

// disablePath is where the disable form of u posts.
func disablePath(u *twofactor.User) string { return "/admin/users/" + u.ID + "/disable/" }

// wantEnabled checks whether u has two-factor on.
func wantEnabled(t testing.TB, e *env, u *twofactor.User, want bool) {
	t.Helper()
	got, err := e.svc.Enabled(bg, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("%s: two-factor enabled = %v, want %v", u.Username, got, want)
	}
}

// wantCleanHTML checks that a page has no inline script or style (CSP).
func wantCleanHTML(t testing.TB, r *resp) {
	t.Helper()
	for _, bad := range []string{"<script", "style=", "<style", "javascript:", "onload=", "onclick="} {
		if strings.Contains(r.body, bad) {
			t.Fatalf("the page contains %q", bad)
		}
	}
}

func TestAdminAccess(t *testing.T) {
	e := newEnv(t)
	root := e.staff("root")
	e.totp(root, staffKey, "Staff phone")
	nerd := e.staff("nerd") // staff without two-factor
	alice := e.user("alice")
	e.totp(alice, fixtureKey, "Phone")
	bob := e.user("bob") // no two-factor

	paths := []string{"/admin/", "/admin/?q=a&page=2", userPath(alice)}

	// Anonymous: to the sign-in page, and back afterwards.
	anon := e.client()
	for _, p := range paths {
		wantRedirect(t, anon.get(p), "/account/login/?next="+url.QueryEscape(p))
	}
	wantRedirect(t, anon.post(disablePath(alice), url.Values{"understand": {"on"}}),
		"/account/login/?next="+url.QueryEscape(userPath(alice)))

	// Signed in, not staff, verified or not: 403.
	for _, who := range []struct {
		name string
		key  []byte
	}{{"alice", fixtureKey}, {"bob", nil}} {
		c := e.client()
		c.signIn(who.name, who.key)
		for _, p := range paths {
			r := c.get(p)
			wantStatus(t, r, http.StatusForbidden)
			wantText(t, r, "Permission Denied")
		}
		wantStatus(t, c.post(disablePath(bob), url.Values{"understand": {"on"}}), http.StatusForbidden)
	}

	// Staff with two-factor, signed in with the password before it was
	// turned on: sign in again to verify.
	late := e.staff("late")
	c := e.client()
	c.signIn("late", nil)
	e.totp(late, []byte("latelatelatelatelate"), "Phone")
	for _, p := range paths {
		wantRedirect(t, c.get(p), "/account/login/?next="+url.QueryEscape(p))
	}
	wantEnabled(t, e, alice, true)

	// Staff without two-factor: a page asking to set it up first.
	c = e.client()
	c.signIn("nerd", nil)
	r := c.get("/admin/")
	wantStatus(t, r, http.StatusForbidden)
	wantText(t, r, "Set up two-factor authentication for your account first", "Enable Two-Factor Authentication")
	if !strings.Contains(r.body, `id="admin-setup-required"`) ||
		!strings.Contains(r.body, `href="/account/two_factor/setup/?next=%2Fadmin%2F"`) {
		t.Fatalf("set-up page:\n%s", r.body)
	}
	wantStatus(t, c.post(disablePath(alice), url.Values{"understand": {"on"}}), http.StatusForbidden)
	wantEnabled(t, e, alice, true)
	_ = nerd

	// Staff verified by a second factor: the console.
	c = e.client()
	c.signIn("root", staffKey)
	for _, p := range paths {
		r := c.get(p)
		wantStatus(t, r, http.StatusOK)
		wantCleanHTML(t, r)
	}
	r = c.get("/admin/")
	wantText(t, r, "Staff console", "Signed in as root", "alice", "bob", "nerd")

	// Once its device is gone the session is no longer verified.
	c2 := e.client()
	c2.signIn("root", staffKey)
	if err := e.svc.Disable(bg, twofactor.OperatorActor(root.ID)); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c2.get("/admin/"), http.StatusForbidden)
}

func TestAdminWithoutRequireVerified(t *testing.T) {
	e := newEnv(t, withoutAdminVerified)
	e.staff("nerd") // no two-factor at all
	target := e.user("target")
	e.totp(target, targetKey, "Target phone")

	// A password-only staff session may look...
	c := e.client()
	c.signIn("nerd", nil)
	r := c.get("/admin/")
	wantStatus(t, r, http.StatusOK)
	wantText(t, r, "target")
	r = c.get(userPath(target))
	wantStatus(t, r, http.StatusOK)
	if r.input("token") != nil || !strings.Contains(r.body, `id="admin-own-setup"`) {
		t.Fatalf("a staff member without two-factor is asked for a code:\n%s", r.body)
	}
	// ...but not disable: that needs the staff member's own fresh
	// verification.
	r = c.post(disablePath(target), url.Values{"understand": {"on"}})
	wantStatus(t, r, http.StatusOK)
	wantText(t, r, "Please confirm it is you", "set up two-factor authentication for your account first")
	r = c.post(disablePath(target), url.Values{"understand": {"on"}, "token": {"123456"}})
	wantStatus(t, r, http.StatusOK)
	wantText(t, r, "Two-factor authentication is not enabled for this account.")
	wantEnabled(t, e, target, true)

	// Staff with two-factor but a password-only session: asked for a code,
	// which verifies the session, then the disable goes through.
	late := e.staff("late")
	lateKey := []byte("latelatelatelatelate")
	c = e.client()
	c.signIn("late", nil)
	e.totp(late, lateKey, "Phone")
	r = c.get(userPath(target))
	wantStatus(t, r, http.StatusOK)
	if in := r.input("token"); in == nil || in["id"] != "id_token" || in["autocomplete"] != "one-time-code" {
		t.Fatalf("no step-up field: %v", in)
	}
	r = c.post(disablePath(target), url.Values{"understand": {"on"}})
	wantText(t, r, "Please confirm it is you")
	wantEnabled(t, e, target, true)
	r = c.post(disablePath(target), url.Values{"understand": {"on"}, "token": {e.code(lateKey)}})
	wantRedirect(t, r, userPath(target)+"?notice=disabled")
	wantEnabled(t, e, target, false)
	if s := c.session(); s == nil || !s.Verified() {
		t.Fatalf("step-up did not verify the session: %+v", s)
	}
}

func TestAdminUsersSearchAndPaging(t *testing.T) {
	e, c, _, target := adminEnv(t)
	for i := range 30 {
		e.user(fmt.Sprintf("u%02d", i))
	}
	// One of them has used its device.
	u05, err := e.svc.Users().UserByName(bg, "u05")
	if err != nil {
		t.Fatal(err)
	}
	e.totp(u05, fixtureKey, "Phone")
	if _, err := e.svc.Verify(bg, u05.ID, e.code(fixtureKey), ""); err != nil {
		t.Fatal(err)
	}
	used := e.clock.Now()

	rows := func(r *resp) []string {
		var out []string
		m := regexp.MustCompile(`<a class="user" href="[^"]*">([^<]*)</a>`).FindAllStringSubmatch(r.body, -1)
		for _, x := range m {
			out = append(out, x[1])
		}
		return out
	}

	// 32 users (root, target, u00…u29) ordered by username: 25 on page 1.
	r := c.get("/admin/")
	wantStatus(t, r, 200)
	wantText(t, r, "32 users", "Page 1 of 2")
	got := rows(r)
	if len(got) != 25 || got[0] != "root" || got[1] != "target" || got[2] != "u00" || got[24] != "u22" {
		t.Fatalf("page 1: %v", got)
	}
	if !strings.Contains(r.body, `<a href="/admin/?page=2" rel="next">`) || strings.Contains(r.body, `rel="prev"`) {
		t.Fatalf("page 1 links:\n%s", r.body)
	}
	// Each row links to the user page and says what the user has.
	if !strings.Contains(r.body, `<tr data-user-id="`+target.ID+`">`) || !strings.Contains(r.body, `href="/admin/users/`+target.ID+`/"`) {
		t.Fatal("no link to the user page")
	}
	row := regexp.MustCompile(`(?s)<tr data-user-id="` + target.ID + `">(.*?)</tr>`).FindStringSubmatch(r.body)
	if row == nil || !strings.Contains(row[1], "Token generator, Backup codes") || !strings.Contains(row[1], "Enabled") ||
		!strings.Contains(row[1], "target@example.com") || !strings.Contains(row[1], "Never") {
		t.Fatalf("target's row: %v", row)
	}
	row = regexp.MustCompile(`(?s)<tr data-user-id="` + u05.ID + `">(.*?)</tr>`).FindStringSubmatch(r.body)
	if row == nil || !strings.Contains(row[1], used.UTC().Format("2006-01-02 15:04 UTC")) {
		t.Fatalf("u05's row lacks the last use: %v", row)
	}
	r = c.get("/admin/?page=2")
	wantText(t, r, "Page 2 of 2")
	if got := rows(r); len(got) != 7 || got[0] != "u23" || got[6] != "u29" {
		t.Fatalf("page 2: %v", got)
	}
	if !strings.Contains(r.body, `<a href="/admin/" rel="prev">`) || strings.Contains(r.body, `rel="next"`) {
		t.Fatal("page 2 links")
	}

	// Search by username or email, case-insensitive; links keep the search.
	r = c.get("/admin/?q=U1")
	wantText(t, r, "10 users match the search.")
	if got := rows(r); len(got) != 10 || got[0] != "u10" {
		t.Fatalf("q=U1: %v", got)
	}
	if v := r.input("q"); v == nil || v["value"] != "U1" {
		t.Fatalf("the search field: %v", v)
	}
	r = c.get("/admin/?q=u07%40example.com")
	if got := rows(r); len(got) != 1 || got[0] != "u07" {
		t.Fatalf("q=email: %v", got)
	}
	wantText(t, r, "1 user matches the search.")
	// LIKE wildcards are searched for literally.
	for _, q := range []string{"%", "_", "u_1", `\`} {
		r = c.get("/admin/?q=" + url.QueryEscape(q))
		wantText(t, r, "No user matches.")
	}
	r = c.get("/admin/?q=u&page=2")
	wantText(t, r, "30 users match the search.", "Page 2 of 2")
	if !strings.Contains(r.body, `href="/admin/?q=u" rel="prev"`) {
		t.Fatal("the previous link loses the search")
	}

	// Bad page values: the first page, or the last when past the end.
	for _, p := range []string{"0", "-1", "abc", "1e3", "99999999999999999999", "%00", "2.5", ""} {
		r = c.get("/admin/?page=" + p)
		wantStatus(t, r, 200)
		wantText(t, r, "Page 1 of 2")
	}
	for _, p := range []string{"3", "1000", "1048576"} {
		r = c.get("/admin/?page=" + p)
		wantStatus(t, r, 200)
		wantText(t, r, "Page 2 of 2")
	}

	// Bad search text: an error on the field, never a 500.
	for _, q := range []string{strings.Repeat("x", 5000), "\xff\xfe", "a\x00b", "a\x01b", strings.Repeat("é", 200)} {
		r = c.get("/admin/?q=" + url.QueryEscape(q))
		wantStatus(t, r, 200)
		wantText(t, r, "Enter a search of at most 254 characters, without control characters.")
		if strings.Contains(r.body, `id="admin-users"`) {
			t.Fatalf("a bad search lists users")
		}
		wantCleanHTML(t, r)
	}
	// Mark-up in the search is shown as text.
	r = c.get("/admin/?q=" + url.QueryEscape(`"><script>x</script>`))
	wantStatus(t, r, 200)
	wantCleanHTML(t, r)
}

func TestAdminAdoption(t *testing.T) {
	e, c, _, _ := adminEnv(t)
	for i := range 5 {
		u := e.user(fmt.Sprintf("u%d", i))
		if i < 2 {
			e.totp(u, fixtureKey, "Phone")
		}
	}
	// 7 users; root, target, u0 and u1 have TOTP; target also backup codes.
	r := c.get("/admin/")
	wantStatus(t, r, 200)
	wantCleanHTML(t, r)
	wantText(t, r, "Two-factor adoption", "Users 7", "With two-factor authentication 4 (57%)")
	table := regexp.MustCompile(`(?s)<table id="adoption-table">(.*?)</table>`).FindStringSubmatch(r.body)
	if table == nil {
		t.Fatal("no adoption table")
	}
	tr := (&resp{body: table[1]}).text()
	for _, want := range []string{"Users with two-factor authentication, by method", "Method Users Share",
		"Any method 4 57%", "Token generator 4 57%", "Backup codes 1 14%"} {
		if !strings.Contains(tr, want) {
			t.Fatalf("adoption table lacks %q: %s", want, tr)
		}
	}
	svg := regexp.MustCompile(`(?s)<svg class="chart" id="adoption-chart"[^>]*>(.*?)</svg>`).FindStringSubmatch(r.body)
	if svg == nil || !strings.Contains(svg[0], `role="img"`) || !strings.Contains(svg[0], `aria-labelledby="adoption-chart-title"`) {
		t.Fatalf("no accessible chart:\n%s", r.body)
	}
	// Bars in proportion: 4/7 and 1/7 of 360 units.
	for _, w := range []string{`width="205"`, `width="51"`} {
		if !strings.Contains(svg[1], w) {
			t.Fatalf("chart lacks a bar of %s:\n%s", w, svg[1])
		}
	}
	if strings.Count(svg[1], `class="bar`) != 3 {
		t.Fatalf("bars:\n%s", svg[1])
	}

	// Figures without any user are zeros, not a division by zero.
	v := adoption(twofactor.Adoption{})
	if v.Percent != 0 || len(v.Chart.Bars) != 1 || v.Chart.Bars[0].Width != 0 || v.Chart.Height <= 0 {
		t.Fatalf("empty adoption %+v", v)
	}
	// One user in a thousand still shows.
	v = adoption(twofactor.Adoption{Users: 1000, Enabled: 1, ByKind: map[twofactor.Kind]int{twofactor.KindTOTP: 1}})
	if v.Chart.Bars[0].Width != 2 || v.Percent != 0 {
		t.Fatalf("small adoption %+v", v)
	}
	if p := percent(1, 3); p != 33 {
		t.Fatalf("percent(1, 3) = %d", p)
	}
	if p := percent(2, 3); p != 67 {
		t.Fatalf("percent(2, 3) = %d", p)
	}
}

func TestAdminUserPage(t *testing.T) {
	e, c, _, target := adminEnv(t)
	// The target signs in from a browser with a hostile user agent, and
	// fails a code once.
	tc := e.client()
	tc.headers["User-Agent"] = `<script>alert("ua")</script>`
	r := tc.login("target", "correct horse")
	wantStatus(t, r, 200)
	wantText(t, tc.token("000000"), "Invalid token.")
	tc.signIn("target", targetKey)
	// An unconfirmed device too, with a generated key.
	pending, err := e.svc.AddTOTP(bg, twofactor.OperatorActor(target.ID), twofactor.TOTPSpec{Name: "Pending tablet"}, "target")
	if err != nil {
		t.Fatal(err)
	}

	r = c.get(userPath(target))
	wantStatus(t, r, 200)
	wantCleanHTML(t, r)
	wantText(t, r, "User details", "target", "target@example.com", "Target phone", "Pending tablet", "Token generator",
		"Backup codes remaining: 10", "Recent events", "Disable two-factor authentication", "Yes, I am sure")
	for _, id := range []string{`id="admin-profile"`, `id="admin-devices"`, `id="admin-events"`, `id="admin-backup-codes"`,
		`<form method="post" class="disable" action="/admin/users/` + target.ID + `/disable/">`, `id="id_understand"`} {
		if !strings.Contains(r.body, id) {
			t.Fatalf("the page lacks %s", id)
		}
	}
	// The devices: kind, name, primary, confirmed.
	devices := regexp.MustCompile(`(?s)<table id="admin-devices">(.*?)</table>`).FindStringSubmatch(r.body)
	if devices == nil {
		t.Fatal("no devices")
	}
	dt := (&resp{body: devices[1]}).text()
	for _, want := range []string{"Kind Name Primary Confirmed Added Last used", "Token generator Target phone Yes Yes",
		"Token generator Pending tablet No No"} {
		if !strings.Contains(dt, want) {
			t.Fatalf("devices lack %q: %s", want, dt)
		}
	}
	// Freshly verified staff: no code asked.
	if r.input("token") != nil {
		t.Fatal("a step-up field right after sign-in")
	}
	// Events: newest first, with the device kind, outcome and client.
	events := regexp.MustCompile(`(?s)<table id="admin-events">(.*?)</table>`).FindStringSubmatch(r.body)
	if events == nil {
		t.Fatal("no events")
	}
	et := (&resp{body: events[1]}).text()
	for _, want := range []string{"user_verified", "verification_failed", "device_added", "backup_codes_regenerated",
		"Verification failed", "Failure", "Success", "wrong", `<script>alert("ua")</script>`} {
		if !strings.Contains(et, want) {
			t.Fatalf("events lack %q: %s", want, et)
		}
	}
	if !strings.Contains(events[1], "&lt;script&gt;alert(&#34;ua&#34;)&lt;/script&gt;") {
		t.Fatal("the user agent is not escaped")
	}
	if strings.Index(et, "user_verified") > strings.Index(et, "device_added") {
		t.Fatal("events are not newest first")
	}

	// No secret reaches the page: neither key in any encoding, nor a
	// backup code.
	codes := e.backupCodes(target)
	r = c.get(userPath(target))
	lower := strings.ToLower(r.body)
	for _, key := range [][]byte{targetKey, staffKey, pending.Key} {
		b32 := base32.StdEncoding.EncodeToString(key)
		for _, s := range []string{hex.EncodeToString(key), strings.ToLower(b32), strings.ToLower(strings.TrimRight(b32, "=")),
			strings.ToLower(string(key)), "otpauth"} {
			if strings.Contains(lower, s) {
				t.Fatalf("the page shows a secret (%q)", s)
			}
		}
	}
	for _, code := range codes {
		if strings.Contains(r.body, code) || strings.Contains(r.body, strings.ReplaceAll(code, "-", "")) {
			t.Fatal("the page shows a backup code")
		}
	}

	// A user without two-factor: nothing to disable.
	plain := e.user("plain")
	r = c.get(userPath(plain))
	wantStatus(t, r, 200)
	wantText(t, r, "This user has no authentication device.", "No backup codes were generated.",
		"No event was recorded for this user.", "Two-factor authentication is not enabled for this user.")
	if strings.Contains(r.body, `class="disable"`) {
		t.Fatal("a disable form for a user without two-factor")
	}
	// A forged notice is not shown where it is not true.
	wantNoText(t, c.get(userPath(target)+"?notice=disabled"), "Two-factor authentication was disabled for this user.")
	wantNoText(t, c.get(userPath(plain)+"?notice=nope"), "was disabled")
}

func TestAdminDisable(t *testing.T) {
	e, c, root, target := adminEnv(t, envOpts{opts: func(o *twofactor.Options) { o.RememberAge = time.Hour }})
	tc := e.client()
	tc.signIn("target", targetKey)

	// The box must be ticked.
	r := c.submit(c.get(userPath(target)), disablePath(target))
	wantStatus(t, r, 200)
	wantText(t, r, "This field is required.")
	if in := r.input("understand"); in == nil || in["aria-invalid"] != "true" {
		t.Fatalf("the box is not marked invalid: %v", in)
	}
	wantEnabled(t, e, target, true)

	// Later the staff member's own code is needed.
	e.clock.Add(11 * time.Minute)
	r = c.get(userPath(target))
	if in := r.input("token"); in == nil || in["id"] != "id_token" {
		t.Fatalf("no step-up field: %v", in)
	}
	r = c.post(disablePath(target), url.Values{"understand": {"on"}})
	wantStatus(t, r, 200)
	wantText(t, r, "Please confirm it is you")
	if !regexp.MustCompile(`<input id="id_understand"[^>]* checked`).MatchString(r.body) {
		t.Fatal("the box is not kept ticked")
	}
	wantEnabled(t, e, target, true)
	// The target's code is not the staff member's.
	r = c.post(disablePath(target), url.Values{"understand": {"on"}, "token": {e.codeAt(targetKey, 0)}})
	wantStatus(t, r, 200)
	wantText(t, r, "Invalid token.")
	wantEnabled(t, e, target, true)

	r = c.post(disablePath(target), url.Values{"understand": {"on"}, "token": {e.code(staffKey)}})
	wantRedirect(t, r, userPath(target)+"?notice=disabled")
	wantEnabled(t, e, target, false)
	if n, _ := e.svc.BackupCodesRemaining(bg, target.ID); n != 0 {
		t.Fatalf("%d backup codes left", n)
	}
	if s := tc.session(); s == nil || s.Verified() {
		t.Fatalf("the target's session is still verified: %+v", s)
	}
	r = c.get(r.location())
	wantStatus(t, r, 200)
	wantText(t, r, "Two-factor authentication was disabled for this user.", "This user has no authentication device.")
	if !strings.Contains(r.body, `id="admin-notice" role="status"`) {
		t.Fatal("no notice")
	}
	// The events are on the target's trail, naming the staff member.
	events, err := e.svc.Events(bg, target.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[twofactor.EventKind]string{}
	for _, ev := range events {
		kinds[ev.Kind] = ev.Reason
	}
	for _, k := range []twofactor.EventKind{twofactor.EventTwoFactorDisabled, twofactor.EventAdminDisabledUser} {
		if reason, ok := kinds[k]; !ok || !strings.Contains(reason, root.ID) {
			t.Fatalf("event %s: %q (%v)", k, reason, kinds)
		}
	}
	wantText(t, r, "admin_disabled_user", "Disabled by staff", "two_factor_disabled")
	// The list says so too.
	row := regexp.MustCompile(`(?s)<tr data-user-id="` + target.ID + `">(.*?)</tr>`).FindStringSubmatch(c.get("/admin/").body)
	if row == nil || !strings.Contains(row[1], "Disabled") || !strings.Contains(row[1], "None") {
		t.Fatalf("the list after disabling: %v", row)
	}
	// The staff member keeps their own two-factor.
	wantEnabled(t, e, root, true)
}

func TestAdminNotFound(t *testing.T) {
	e, c, _, target := adminEnv(t)
	dev := e.totp(e.user("other"), fixtureKey, "Phone")
	ids := []string{"nope", dev.ID, "%00", "%2e%2e", "a%20b", "%ff", "%C3%A9", strings.Repeat("a", 65), strings.Repeat("a", 5000), "-", "_"}
	for _, id := range ids {
		r := c.get("/admin/users/" + id + "/")
		if r.status != http.StatusNotFound {
			t.Errorf("GET %q: status %d", id, r.status)
		}
		r = c.post("/admin/users/"+id+"/disable/", url.Values{"understand": {"on"}, "token": {e.code(staffKey)}})
		if r.status != http.StatusNotFound {
			t.Errorf("POST %q: status %d", id, r.status)
		}
	}
	wantText(t, c.get("/admin/users/nope/"), "Page not found")
	wantEnabled(t, e, target, true)
}

func TestAdminCrossOrigin(t *testing.T) {
	e, c, _, target := adminEnv(t)
	r := c.get(userPath(target))
	c.headers["Sec-Fetch-Site"] = "cross-site"
	r = c.submit(r, disablePath(target), "understand", "on")
	wantStatus(t, r, http.StatusForbidden)
	wantText(t, r, "This request came from another site and was refused.")
	c.headers = map[string]string{"Origin": "https://evil.example"}
	wantStatus(t, c.post(disablePath(target), url.Values{"understand": {"on"}}), http.StatusForbidden)
	wantEnabled(t, e, target, true)
	// A cross-site GET only reads.
	c.headers = map[string]string{"Sec-Fetch-Site": "cross-site"}
	wantStatus(t, c.get("/admin/"), http.StatusOK)
}

func TestAdminBadInput(t *testing.T) {
	e, c, _, target := adminEnv(t)
	anon := e.client()
	bob := e.client()
	e.user("bob")
	bob.signIn("bob", nil)
	huge := strings.Repeat("a", 100<<10)
	pages := []string{"/admin/", "/admin/users/", "/admin/users/" + target.ID + "/", "/admin/users/" + target.ID + "/disable/",
		"/admin/users/x/", "/admin/users/x/disable/", "/admin/nope/"}
	garbage := url.Values{"understand": {"\xff"}, "token": {"\x00\xff" + huge[:3000]}, "q": {"\x00"}, "page": {"-9"}}
	for _, cl := range []*client{anon, bob, c} {
		for _, p := range pages {
			for _, m := range []string{"GET", "POST", "PUT", "DELETE", "HEAD"} {
				e.clock.Add(3 * time.Second)
				r := cl.do(m, p+"?q=%ff%00&page=%00&notice=%ff&lang=%ff", strings.NewReader(garbage.Encode()), "application/x-www-form-urlencoded")
				if r.status >= 500 {
					t.Errorf("%s %s: %d", m, p, r.status)
				}
			}
		}
		// Bodies that do not parse: 400 or 413.
		for _, body := range []string{"understand=" + huge, "understand=%zz"} {
			r := cl.do("POST", disablePath(target), strings.NewReader(body), "application/x-www-form-urlencoded")
			if r.status != 400 && r.status != 413 {
				t.Errorf("%q: status %d", body[:min(20, len(body))], r.status)
			}
		}
		// A multipart body is no form of the console's: nothing ticked.
		r := cl.do("POST", disablePath(target), strings.NewReader("--x\r\ngarbage"), "multipart/form-data; boundary=x")
		if r.status >= 500 || r.status == http.StatusSeeOther {
			t.Errorf("multipart garbage: status %d", r.status)
		}
	}
	wantEnabled(t, e, target, true)
}

func TestAdminHeadersAndBasePath(t *testing.T) {
	e := newEnv(t, envOpts{web: func(c *Config) { c.BasePath = "/auth" }})
	root := e.staff("root")
	e.totp(root, staffKey, "Staff phone")
	target := e.user("target")
	e.totp(target, targetKey, "Target phone")
	c := e.client()
	// The pages live under /auth.
	wantRedirect(t, c.get("/auth/admin/"), "/auth/account/login/?next=%2Fauth%2Fadmin%2F")
	r := c.post("/auth/account/login/", url.Values{"step": {"auth"}, "username": {"root"}, "password": {"correct horse"}})
	wantStatus(t, r, 200)
	r = c.post("/auth/account/login/", url.Values{"step": {"token"}, "token": {e.code(staffKey)}})
	wantStatus(t, r, http.StatusFound)
	for _, p := range []string{"/auth/admin/", "/auth/admin/users/" + target.ID + "/"} {
		r = c.get(p)
		wantStatus(t, r, 200)
		h := r.header
		if h.Get("Content-Security-Policy") != contentSecurityPolicy || h.Get("Referrer-Policy") != "no-referrer" ||
			h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, h)
		}
		if !strings.Contains(r.body, `href="/auth/account/static/style.css"`) || !strings.Contains(r.body, `class="card wide"`) {
			t.Errorf("%s: no style sheet or wide layout", p)
		}
	}
	if !strings.Contains(r.body, `action="/auth/admin/users/`+target.ID+`/disable/"`) || !strings.Contains(r.body, `href="/auth/admin/"`) {
		t.Fatalf("links without the base path:\n%s", r.body)
	}
	if !strings.Contains(c.get("/auth/admin/").body, `href="/auth/admin/users/`+target.ID+`/"`) {
		t.Fatal("user links without the base path")
	}
	wantStatus(t, c.get("/admin/"), http.StatusNotFound)
}

// ownUsers is an application's own user source (not the built-in users).
type ownUsers struct{ twofactor.UserSource }

func TestAdminNeedsBuiltinUsers(t *testing.T) {
	e := newEnv(t)
	keys, err := secret.NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := twofactor.New(twofactor.Config{Store: e.store, Keys: keys, Options: e.svc.Options(), Clock: e.clock,
		Users: ownUsers{e.svc.Users()}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range h.routes() {
		if strings.HasPrefix(rt.path, "/admin/") {
			t.Fatalf("the console is registered without built-in users: %s", rt.path)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	if err := h.Register(mux); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.h = h.Middleware(mux)
	wantStatus(t, c.get("/admin/"), http.StatusTeapot)
}

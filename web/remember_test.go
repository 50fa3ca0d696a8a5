package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
)

func rememberEnv(t *testing.T, age time.Duration, web ...func(*Config)) (*env, *twofactor.User) {
	o := envOpts{opts: func(o *twofactor.Options) { o.RememberAge = age }}
	if len(web) > 0 {
		o.web = web[0]
	}
	e := newEnv(t, o)
	u := e.user("alice")
	e.totp(u, fixtureKey, "Phone")
	return e, u
}

// rememberCookies returns the client's remember cookies.
func (c *client) rememberCookies() []*http.Cookie {
	var out []*http.Cookie
	for _, ck := range c.jar {
		if strings.HasPrefix(ck.Name, "remember-cookie_") {
			out = append(out, ck)
		}
	}
	return out
}

func TestRememberLabels(t *testing.T) {
	for _, tt := range []struct {
		age  time.Duration
		want string
	}{
		{3 * time.Minute, "Don't ask again on this device for 3 minutes"},
		{time.Minute, "Don't ask again on this device for 1 minute"},
		{4 * time.Hour, "Don't ask again on this device for 4 hours"},
		{5 * 24 * time.Hour, "Don't ask again on this device for 5 days"},
	} {
		e, _ := rememberEnv(t, tt.age)
		r := e.client().login("alice", "correct horse")
		wantText(t, r, tt.want)
		if in := r.input("remember"); in == nil || in["type"] != "checkbox" || in["checked"] != "" {
			t.Fatalf("remember box %v (it is opt-in: unchecked)", in)
		}
	}
}

func TestRememberBrowser(t *testing.T) {
	e, u := rememberEnv(t, time.Hour)
	c := e.client()
	c.login("alice", "correct horse")
	r := c.token(e.code(fixtureKey), "remember", "on")
	wantRedirect(t, r, "/account/two_factor/")
	var ck *http.Cookie
	for _, x := range r.cookies {
		if strings.HasPrefix(x.Name, "remember-cookie_") {
			ck = x
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge != 3600 || ck.Secure {
		t.Fatalf("remember cookie %+v", ck)
	}
	if len(c.rememberCookies()) != 1 {
		t.Fatal("want exactly one remember cookie")
	}
	// Sign out; the next sign-in skips the code, verified by the device.
	c.post("/account/logout/", nil)
	wantStatus(t, c.get("/secret/raise_anonymous/"), 403)
	r = c.login("alice", "correct horse")
	wantRedirect(t, r, "/account/two_factor/")
	if s := c.session(); !s.Verified() || s.UserID != u.ID {
		t.Fatalf("session after a remembered sign-in %+v", s)
	}
	wantStatus(t, c.get("/secret/raise_unverified/"), 200)
	// The profile lists this browser.
	wantText(t, c.get("/account/two_factor/"), "Remembered browsers", "this browser")
}

func TestRememberNotAskedNoCookie(t *testing.T) {
	e, _ := rememberEnv(t, time.Hour)
	c := e.client()
	c.login("alice", "correct horse")
	wantRedirect(t, c.token(e.code(fixtureKey)), "/account/two_factor/")
	if len(c.rememberCookies()) != 0 {
		t.Fatal("a remember cookie without the box")
	}
	c.post("/account/logout/", nil)
	wantText(t, c.login("alice", "correct horse"), "Token:")
}

// remembered signs alice in with the box ticked and signs out.
func remembered(t *testing.T, e *env) *client {
	c := e.client()
	c.login("alice", "correct horse")
	wantRedirect(t, c.token(e.code(fixtureKey), "remember", "on"), "/account/two_factor/")
	c.post("/account/logout/", nil)
	if len(c.rememberCookies()) != 1 {
		t.Fatal("no remember cookie")
	}
	return c
}

func TestRememberRefused(t *testing.T) {
	tests := []struct {
		name   string
		spoil  func(e *env, c *client, u *twofactor.User)
		delete bool // the cookie is deleted
	}{
		{"expired", func(e *env, c *client, u *twofactor.User) { e.clock.Add(2 * time.Hour) }, true},
		{"tampered", func(e *env, c *client, u *twofactor.User) {
			ck := c.rememberCookies()[0]
			ck.Value = ck.Value[:len(ck.Value)-5] + "00000"
		}, true},
		{"garbage value", func(e *env, c *client, u *twofactor.User) { c.rememberCookies()[0].Value = "!!notacookie" }, true},
		{"garbage name", func(e *env, c *client, u *twofactor.User) {
			ck := c.rememberCookies()[0]
			delete(c.jar, ck.Name)
			ck.Name = "remember-cookie_%%%"
			c.jar[ck.Name] = ck
		}, true},
		{"unknown id", func(e *env, c *client, u *twofactor.User) {
			ck := c.rememberCookies()[0]
			delete(c.jar, ck.Name)
			ck.Name = "remember-cookie_aaaaaaaaaaaaaaaaaaaaaaaaaa"
			c.jar[ck.Name] = ck
		}, true},
		{"revoked", func(e *env, c *client, u *twofactor.User) {
			if _, err := e.svc.RevokeBrowsers(bg, twofactor.OperatorActor(u.ID)); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"password changed", func(e *env, c *client, u *twofactor.User) {
			e.clock.Add(time.Second)
			if err := e.svc.SetPassword(bg, u.ID, "correct horse"); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, u := rememberEnv(t, time.Hour)
			c := remembered(t, e)
			tt.spoil(e, c, u)
			r := c.login("alice", "correct horse")
			wantStatus(t, r, 200)
			wantText(t, r, "Token:")
			if tt.delete && len(c.rememberCookies()) != 0 {
				t.Fatalf("the refused cookie was kept: %v", c.rememberCookies())
			}
		})
	}
}

func TestRememberManyCookies(t *testing.T) {
	e, _ := rememberEnv(t, time.Hour)
	c := e.client()
	for i := range 20 {
		name := "remember-cookie_" + strings.Repeat(string(rune('a'+i)), 26)
		c.jar[name] = &http.Cookie{Name: name, Value: strings.Repeat("A", 43)}
	}
	e.store.reset()
	r := c.login("alice", "correct horse")
	wantStatus(t, r, 200)
	if n := e.store.otherReads.Load(); n > maxRememberCookies+2 {
		t.Fatalf("%d reads for a sign-in with 20 cookies", n)
	}
	if len(c.rememberCookies()) != 0 {
		t.Fatal("the junk cookies were kept")
	}
}

func TestRememberCookieSettings(t *testing.T) {
	httpOnly := false
	e, _ := rememberEnv(t, time.Hour, func(cfg *Config) {
		cfg.Remember = CookieConfig{Prefix: "rc_", Domain: "example.com", Path: "/account/", Secure: true,
			HTTPOnly: &httpOnly, SameSite: http.SameSiteStrictMode}
	})
	c := e.client()
	c.login("alice", "correct horse")
	r := c.token(e.code(fixtureKey), "remember", "on")
	var ck *http.Cookie
	for _, x := range r.cookies {
		if strings.HasPrefix(x.Name, "rc_") {
			ck = x
		}
	}
	if ck == nil || ck.HttpOnly || !ck.Secure || ck.Domain != "example.com" || ck.Path != "/account/" || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("remember cookie %+v", ck)
	}
}

func TestRememberOnlyOverTLSSecure(t *testing.T) {
	e, _ := rememberEnv(t, time.Hour)
	c := e.client()
	c.tls = true
	r := c.do("POST", "https://example.com/account/login/", strings.NewReader("step=auth&username=alice&password=correct+horse"), "application/x-www-form-urlencoded")
	wantStatus(t, r, 200)
	if ck := r.cookie("twofactor_session"); ck == nil || !ck.Secure {
		t.Fatalf("session cookie under TLS %+v", ck)
	}
}

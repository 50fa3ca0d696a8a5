package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/twofactor/twofactor"
)

// noContentType asks the harness to send a body without Content-Type.
const noContentType = "-"

// TestBadBodies: every malformed body is a 4xx problem naming the position
// or the field, and changes nothing.
func TestBadBodies(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		huge := `{"username":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `","password":"x"}`
		tests := []struct {
			name        string
			path        string
			contentType string
			body        string
			status      int
			code        string
			fields      []string // the fields named, in order
			detail      string   // part of the detail
		}{
			{"truncated", "/api/v1/login", "", `{"username": "a",`, 400, "validation_failed", nil, "unexpected end of JSON input at line 1, column 18 (byte 17)"},
			{"bad token", "/api/v1/login", "", "{\n  \"username\": x}", 400, "validation_failed", nil, "line 2, column"},
			{"single quotes", "/api/v1/login", "", `{'username': 'a'}`, 400, "validation_failed", nil, "column 2"},
			{"unknown field", "/api/v1/login", "", `{"username":"a","password":"b","admin":true}`, 400, "validation_failed", []string{"admin"}, "Unknown field"},
			{"two unknown fields", "/api/v1/login", "", `{"username":"a","password":"b","x":1,"y":2}`, 400, "validation_failed", []string{"x", "y"}, ""},
			{"case matters", "/api/v1/login", "", `{"Username":"a","password":"b"}`, 400, "validation_failed", []string{"Username"}, "Unknown field"},
			{"odd member name", "/api/v1/login", "", `{"user\u0000name":"a","password":"b"}`, 400, "validation_failed", []string{`"user\x00name"`}, ""},
			{"repeated member", "/api/v1/login", "", `{"username":"a","username":"b","password":"c"}`, 400, "validation_failed", []string{"username"}, "more than once"},
			{"number for string", "/api/v1/login", "", `{"username":5,"password":"b"}`, 400, "validation_failed", []string{"username"}, "string"},
			{"object for string", "/api/v1/login", "", `{"username":{"a":1},"password":"b"}`, 400, "validation_failed", []string{"username"}, "string"},
			{"null for string", "/api/v1/login", "", `{"username":null,"password":"b"}`, 400, "validation_failed", []string{"username"}, "required"},
			{"string for integer", "/api/v1/mfa/devices", "", `{"kind":"totp","digits":"6"}`, 400, "validation_failed", []string{"digits"}, "integer"},
			{"fraction", "/api/v1/mfa/devices", "", `{"kind":"totp","digits":6.5}`, 400, "validation_failed", []string{"digits"}, "integer"},
			{"overflow", "/api/v1/mfa/devices", "", `{"kind":"totp","digits":1e100}`, 400, "validation_failed", []string{"digits"}, "integer"},
			{"bool for string", "/api/v1/step-up", "", `{"code":true}`, 400, "validation_failed", []string{"code"}, "string"},
			{"missing fields", "/api/v1/login", "", `{}`, 400, "validation_failed", []string{"username", "password"}, "required"},
			{"missing field", "/api/v1/login", "", `{"username":"a"}`, 400, "validation_failed", []string{"password"}, "required"},
			{"blank field", "/api/v1/login", "", `{"username":"  ","password":"b"}`, 400, "validation_failed", []string{"username"}, "required"},
			{"empty body", "/api/v1/login", "", ``, 400, "validation_failed", []string{"username", "password"}, ""},
			{"null", "/api/v1/login", "", `null`, 400, "validation_failed", nil, "JSON object"},
			{"array", "/api/v1/login", "", `[{"username":"a"}]`, 400, "validation_failed", nil, "JSON object"},
			{"string", "/api/v1/login", "", `"username"`, 400, "validation_failed", nil, "JSON object"},
			{"two objects", "/api/v1/login", "", `{"username":"a","password":"b"} {}`, 400, "validation_failed", nil, "after top-level value at line 1, column 33 (byte 32)"},
			{"trailing garbage", "/api/v1/login", "", `{"username":"a","password":"b"}x`, 400, "validation_failed", nil, "invalid character 'x' after top-level value at line 1, column 32 (byte 31)"},
			{"code and backup code", "/api/v1/login/verify", "", `{"mfa_token":"t","code":"123456","backup_code":"abcde-fghij"}`, 400, "validation_failed", []string{"code", "backup_code"}, "not both"},
			{"no code", "/api/v1/login/verify", "", `{"mfa_token":"t"}`, 400, "validation_failed", []string{"code"}, "required"},
			{"device with backup code", "/api/v1/login/verify", "", `{"mfa_token":"t","backup_code":"abcde-fghij","device_id":"d"}`, 400, "validation_failed", []string{"device_id"}, ""},
			{"missing mfa_token", "/api/v1/login/challenge", "", `{"device_id":"d"}`, 400, "validation_failed", []string{"mfa_token"}, ""},
			{"step-up both", "/api/v1/step-up", "", `{"code":"1","backup_code":"2"}`, 400, "validation_failed", []string{"code", "backup_code"}, ""},
			{"unknown field, no body endpoint", "/api/v1/logout", "", `{"all":true}`, 400, "validation_failed", []string{"all"}, ""},
			{"huge body", "/api/v1/login", "", huge, 413, CodeTooLarge, nil, "65536 bytes"},
			{"text/plain", "/api/v1/login", "text/plain", `{"username":"a","password":"b"}`, 415, CodeUnsupportedMediaType, nil, "application/json"},
			{"form", "/api/v1/login", "application/x-www-form-urlencoded", `username=a&password=b`, 415, CodeUnsupportedMediaType, nil, ""},
			{"no content type", "/api/v1/login", noContentType, `{"username":"a","password":"b"}`, 415, CodeUnsupportedMediaType, nil, ""},
			{"no content type, empty", "/api/v1/login", noContentType, ``, 415, CodeUnsupportedMediaType, nil, ""},
			{"latin1", "/api/v1/login", "application/json; charset=latin1", `{"username":"a","password":"b"}`, 415, CodeUnsupportedMediaType, nil, "charset"},
			{"problem+json", "/api/v1/login", "application/problem+json", `{"username":"a","password":"b"}`, 415, CodeUnsupportedMediaType, nil, ""},
			{"bad media type", "/api/v1/login", "application/json; ;", `{"username":"a","password":"b"}`, 415, CodeUnsupportedMediaType, nil, ""},
			{"text/plain, no body endpoint", "/api/v1/logout", "text/plain", `x`, 415, CodeUnsupportedMediaType, nil, ""},
			// Well-formed: the service answers.
			{"charset utf-8", "/api/v1/login", "application/json; charset=UTF-8", `{"username":"a","password":"b"}`, 401, "invalid_credentials", nil, ""},
			{"invalid UTF-8", "/api/v1/login", "", "{\"username\":\"\xff\xfe\",\"password\":\"b\"}", 401, "invalid_credentials", nil, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := req{method: "POST", path: tt.path, token: tok, body: tt.body, contentType: tt.contentType, bad: true}
				if tt.body == "" {
					r.body = []byte{}
				}
				got := h.do(r)
				want(t, got, tt.status, tt.code)
				if !strings.Contains(got.str("detail"), tt.detail) {
					t.Errorf("detail %q does not contain %q", got.str("detail"), tt.detail)
				}
				var fields []string
				if errs, ok := got.json["errors"].([]any); ok {
					for _, e := range errs {
						fields = append(fields, e.(map[string]any)["field"].(string))
					}
				}
				if fmt.Sprint(fields) != fmt.Sprint(tt.fields) {
					t.Errorf("fields %v, want %v (%s)", fields, tt.fields, got)
				}
				if len(tt.fields) > 0 && got.str("field") != tt.fields[0] {
					t.Errorf("field %q, want %q", got.str("field"), tt.fields[0])
				}
			})
		}
		// Nothing changed: the token still works, no device was added.
		st := h.get("/api/v1/mfa", tok)
		want(t, st, 200, "")
		if len(st.json["devices"].([]any)) != 0 {
			t.Fatalf("a bad request changed something: %s", st)
		}
		// A no-body endpoint takes an empty body or {}.
		want(t, h.do(req{method: "POST", path: "/api/v1/logout", token: tok, body: "{}"}), 204, "")
		want(t, h.do(req{method: "POST", path: "/api/v1/logout", token: h.login("alice"), body: []byte{}, contentType: noContentType}), 204, "")
	})
}

// TestAuthorizationHeaders: absent, empty, garbage or foreign credentials
// are 401 problems with a WWW-Authenticate challenge.
func TestAuthorizationHeaders(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		u := h.user("alice")
		tok := h.login("alice")
		web, _, err := h.svc.NewSession(bg, twofactor.SessionWeb, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			headers []string
			code    string
		}{
			{"absent", nil, CodeUnauthorized},
			{"Bearer alone", []string{"Bearer"}, CodeInvalidToken},
			{"Bearer and spaces", []string{"Bearer    "}, CodeInvalidToken},
			{"Token alone", []string{"Token"}, CodeInvalidToken},
			{"garbage token", []string{"Bearer !!garbage!!"}, CodeInvalidToken},
			{"token with a space", []string{"Bearer abc def"}, CodeInvalidToken},
			{"padding in the middle", []string{"Bearer abc=def"}, CodeInvalidToken},
			{"long token", []string{"Bearer " + strings.Repeat("a", 300)}, CodeInvalidToken},
			{"unknown token", []string{"Bearer dW5rbm93bi10b2tlbg"}, CodeInvalidToken},
			{"web session token", []string{"Bearer " + web}, CodeInvalidToken},
			{"Basic", []string{"Basic YWxpY2U6cGFzc3dvcmQ="}, CodeUnauthorized},
			{"Digest", []string{`Digest username="alice"`}, CodeUnauthorized},
			{"scheme only garbage", []string{"garbage"}, CodeUnauthorized},
			{"token without scheme", []string{tok}, CodeUnauthorized},
			{"two headers", []string{"Bearer " + tok, "Bearer " + tok}, CodeUnauthorized},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := req{method: "GET", path: "/api/v1/mfa", bad: true, header: http.Header{}}
				if tt.headers != nil {
					r.header["Authorization"] = tt.headers
				}
				got := h.do(r)
				want(t, got, 401, tt.code)
				if ch := got.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer ") {
					t.Errorf("WWW-Authenticate %q", ch)
				}
			})
		}
		want(t, h.get("/api/v1/mfa", tok), 200, "")
	})
}

// validBodies are requests of the right shape for each endpoint.
var validBodies = map[string]any{
	"POST /api/v1/login":                      map[string]any{"username": "alice", "password": "wrong password"},
	"POST /api/v1/login/challenge":            map[string]any{"mfa_token": "unknown", "device_id": "unknown"},
	"POST /api/v1/login/verify":               map[string]any{"mfa_token": "unknown", "code": "123456"},
	"POST /api/v1/step-up":                    map[string]any{"code": "123456"},
	"POST /api/v1/mfa/devices":                map[string]any{"kind": "totp"},
	"POST /api/v1/mfa/devices/{id}/confirm":   map[string]any{"code": "123456"},
	"PATCH /api/v1/mfa/devices/{id}":          map[string]any{"name": "New name"},
	"POST /api/v1/mfa/devices/{id}/challenge": nil,
	"POST /api/v1/login/webauthn/options":     map[string]any{"mfa_token": "unknown"},
	"POST /api/v1/login/webauthn/verify":      map[string]any{"mfa_token": "unknown", "ceremony": "unknown", "credential": sweepCredential},
	"POST /api/v1/mfa/webauthn/register":      map[string]any{"ceremony": "unknown", "credential": sweepCredential},
}

// sweepCredential is a credential of the right shape whose members hold
// nothing valid.
var sweepCredential = json.RawMessage(`{"id":"AAEC","rawId":"AAEC","type":"public-key","response":{"clientDataJSON":"e30"}}`)

// TestUnknownTokenEveryEndpoint: every endpoint that needs a token refuses
// an unknown one, with a well-formed request otherwise.
func TestUnknownTokenEveryEndpoint(t *testing.T) {
	bothStores(t, func(t *testing.T, h *harness) {
		for _, e := range endpoints {
			if e.access == public {
				continue
			}
			r := h.do(req{method: e.method, path: strings.ReplaceAll(e.path, "{id}", "someid"),
				token: "dW5rbm93bi10b2tlbg", body: validBodies[e.method+" "+e.path]})
			want(t, r, 401, CodeInvalidToken)
		}
	})
}

// TestSweep sends malformed bodies, media types, headers and ids to every
// route of the table and asserts that no answer is a 5xx, and that every
// answer is in the OpenAPI document. WebAuthn is configured, so that the
// security-key routes run their handlers.
func TestSweep(t *testing.T) {
	bothStoresWith(t, webauthnOn, func(t *testing.T, h *harness) {
		h.user("alice")
		tok := h.login("alice")
		d := h.enroll(tok, "Phone")
		bodies := []string{
			"", " ", "{", "}", "{}", "[]", "null", "true", `"x"`, "123", "{}{}", `{"a":1}`, `{"":""}`,
			`{"username":{"a":[1,{"b":null}]}}`, "{\"username\":\"\x00\"}", "\xff\xfe\xfd", "{\"a\":\"\xff\"}",
			strings.Repeat("[", 20000), strings.Repeat(`{"a":`, 5000),
			`{"code":"` + strings.Repeat("9", 60000) + `"}`,
			`{"mfa_token":"` + strings.Repeat("t", 1000) + `","code":"123456"}`,
			`{"kind":"totp","name":"` + strings.Repeat("\u202e", 100) + `"}`,
			strings.Repeat("x", DefaultMaxBodyBytes+1),
		}
		// Credentials of every shape, for the security-key routes (and
		// step-up), with a ceremony that does not exist and one that does.
		liveCer, live := h.begin("/api/v1/mfa/webauthn/options", tok, nil)
		k := newSoftKey(t)
		for _, cer := range []string{liveCer, "unknown", "", strings.Repeat("c", 300)} {
			for _, c := range []string{`null`, `"x"`, `1`, `[]`, `{}`, string(sweepCredential), `{"id":"a","type":"public-key","response":{"attestationObject":"` + strings.Repeat("A", 40000) + `"}}`,
				`{"id":"\u0000","type":"\ud800","response":{"clientDataJSON":"!!","authenticatorData":"","signature":[],"userHandle":{}}}`,
				`{"id":"` + b64.EncodeToString(k.id) + `","type":"public-key","response":{"clientDataJSON":null}}`,
				string(k.create(live, h.origin)), string(k.get(t, live, h.origin)), string(k.create(live, "https://evil.example"))} {
				bodies = append(bodies, `{"mfa_token":"unknown","ceremony":"`+cer+`","credential":`+c+`}`,
					`{"ceremony":"`+cer+`","credential":`+c+`,"name":"x"}`, `{"ceremony":"`+cer+`","credential":`+c+`}`)
			}
		}
		// Every field of every request with every wrong type.
		for _, e := range endpoints {
			if e.action.input == nil {
				continue
			}
			for f := range fieldsOf(e.action.input()) {
				for _, v := range []string{"1", "1.5", "-1", "true", "null", "[]", "{}", `"x"`, `""`, "99999999999999999999"} {
					bodies = append(bodies, `{"`+f+`":`+v+`}`)
				}
			}
		}
		contentTypes := []string{"", "text/plain", noContentType, "application/json; charset=utf-16", ";;;", "application/json; x=y"}
		auths := []string{"", "Bearer", "Bearer x", "Token !", "Basic Zm9vOmJhcg==", "Bearer " + strings.Repeat("A", 5000)}
		origins := []http.Header{{"Origin": {"null"}}, {"Origin": {""}}, {"Origin": {"https://evil.example"}}, {"Origin": {h.origin, h.origin}},
			{"Origin": {"http://[::1"}}, {"Origin": {"javascript:alert(1)"}}, {"Origin": {h.origin + "/../x?y#z"}}, {"Origin": {strings.Repeat("h", 5000)}}}
		ids := []string{"x", "%00", "..%2F..%2Fetc", strings.Repeat("i", 2000), "%E2%80%AE", "'%20OR%201=1--", d.id}

		var n int
		send := func(r req) {
			r.bad = true
			got := h.do(r)
			n++
			if got.status >= 500 {
				t.Fatalf("%s %s (%q, %q) answered %s", r.method, r.path, r.contentType, r.auth, got)
			}
			if got.status >= 400 && got.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s %s: a %d that is not a problem", r.method, r.path, got.status)
			}
		}
		for _, e := range endpoints {
			path := strings.ReplaceAll(e.path, "{id}", "x")
			for _, b := range bodies {
				send(req{method: e.method, path: path, token: tok, body: b})
			}
			for _, ct := range contentTypes {
				for _, b := range []any{"", "{}", "{", validBodies[e.method+" "+e.path]} {
					send(req{method: e.method, path: path, token: tok, body: b, contentType: ct})
				}
			}
			for _, a := range auths {
				send(req{method: e.method, path: path, auth: a, body: "{}"})
			}
			if strings.Contains(e.path, "{id}") {
				for _, id := range ids {
					send(req{method: e.method, path: strings.ReplaceAll(e.path, "{id}", id), token: tok, body: validBodies[e.method+" "+e.path]})
				}
			}
			for _, o := range origins {
				send(req{method: e.method, path: path, token: tok, body: validBodies[e.method+" "+e.path], header: o})
			}
			// Methods the path does not have.
			for _, m := range []string{"GET", "PUT", "PATCH", "DELETE", "OPTIONS"} {
				send(req{method: m, path: path, token: tok})
			}
		}
		t.Logf("%d requests, none answered 5xx", n)
	})
}

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// fuzzDecode fuzzes decodeJSON for the request type *T: it never panics;
// it accepts only one JSON object whose members are the type's; everything
// else is a 4xx problem with a code and a detail.
func fuzzDecode[T any, P interface {
	*T
	request
}](f *testing.F, seeds ...string) {
	for _, s := range append(seeds, "", "{}", "null", "[]", "{", `{"a":1}`, "{}{}", "\xff", `{"":0}`) {
		f.Add([]byte(s))
	}
	allowed := fieldsOf(P(new(T)))
	f.Fuzz(func(t *testing.T, body []byte) {
		dst := P(new(T))
		err := decodeJSON(body, dst)
		if err == nil {
			if len(bytes.TrimSpace(body)) == 0 {
				return
			}
			var m map[string]json.RawMessage
			if jerr := json.Unmarshal(body, &m); jerr != nil || m == nil {
				t.Fatalf("accepted %q, which is not a JSON object: %v", body, jerr)
			}
			for k := range m {
				if !allowed[k] {
					t.Fatalf("accepted %q with the unknown member %q", body, k)
				}
			}
			if errs := dst.validate(); len(errs) > 0 {
				t.Fatalf("accepted %q that does not validate: %v", body, errs)
			}
			// What was accepted survives a round trip unchanged.
			again := P(new(T))
			b, merr := json.Marshal(dst)
			if merr != nil {
				t.Fatal(merr)
			}
			if err := decodeJSON(b, again); err != nil || !reflect.DeepEqual(dst, again) {
				t.Fatalf("round trip of %q: %v, %+v != %+v", body, err, dst, again)
			}
			return
		}
		var p *problem
		if !errors.As(err, &p) {
			t.Fatalf("%q: error %v is not a problem", body, err)
		}
		if p.Status < 400 || p.Status >= 500 || p.Code == "" || p.Detail == "" || p.Type == "" || p.Title == "" {
			t.Fatalf("%q: problem %+v", body, p)
		}
		for _, fe := range p.Errors {
			if fe.Field == "" || fe.Message == "" || !utf8.ValidString(fe.Field) {
				t.Fatalf("%q: field error %+v", body, fe)
			}
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("%q: problem does not encode: %v", body, err)
		}
	})
}

func FuzzDecodeLogin(f *testing.F) {
	fuzzDecode[loginRequest](f, `{"username":"alice","password":"correct horse"}`, `{"username":"a","username":"b","password":"c"}`,
		`{"Username":"a","password":"b"}`, `{"username":5,"password":"b"}`)
}

func FuzzDecodeLoginChallenge(f *testing.F) {
	fuzzDecode[loginChallengeRequest](f, `{"mfa_token":"t","device_id":"d"}`, `{"mfa_token":"t"}`)
}

func FuzzDecodeLoginVerify(f *testing.F) {
	fuzzDecode[loginVerifyRequest](f, `{"mfa_token":"t","code":"123456"}`, `{"mfa_token":"t","backup_code":"k7m2p-x9qrt"}`,
		`{"mfa_token":"t","code":"1","backup_code":"2"}`, `{"mfa_token":"t","code":"123456","device_id":"d"}`)
}

func FuzzDecodeStepUp(f *testing.F) {
	fuzzDecode[stepUpRequest](f, `{"code":"123456"}`, `{"backup_code":"k7m2p-x9qrt"}`, `{"code":true}`,
		`{"ceremony":"c","credential":{"id":"a","type":"public-key","response":{}}}`, `{"ceremony":"c","credential":"x"}`,
		`{"code":"1","ceremony":"c","credential":{"id":"a","type":"public-key","response":{}}}`, `{"credential":null}`)
}

// credentialSeed is a credential as a browser sends it.
const credentialSeed = `{"id":"AAEC","rawId":"AAEC","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0",` +
	`"authenticatorData":"SZYN5YgO","signature":"MEUCIQ"},"authenticatorAttachment":null,"clientExtensionResults":{}}`

func FuzzDecodeLoginWebAuthnOptions(f *testing.F) {
	fuzzDecode[loginWebAuthnOptionsRequest](f, `{"mfa_token":"t"}`, `{"mfa_token":1}`, `{"mfa_token":"t","device_id":"d"}`)
}

func FuzzDecodeLoginWebAuthnVerify(f *testing.F) {
	fuzzDecode[loginWebAuthnVerifyRequest](f, `{"mfa_token":"t","ceremony":"c","credential":`+credentialSeed+`}`,
		`{"mfa_token":"t","ceremony":"c","credential": { "id" : "a\u003c<>&\u2028", "type":"public-key", "response":{} } }`,
		`{"mfa_token":"t","ceremony":"c","credential":"{}"}`, `{"mfa_token":"t","ceremony":"c","credential":[]}`,
		`{"mfa_token":"t","ceremony":"c","credential":{"id":"\xff","type":"public-key","response":{"a":[1,2,{"b":null}]}}}`)
}

func FuzzDecodeWebAuthnRegister(f *testing.F) {
	fuzzDecode[webauthnRegisterRequest](f, `{"ceremony":"c","credential":`+credentialSeed+`,"name":"Blue key"}`,
		`{"ceremony":"c","credential":{"id":"a","type":"public-key","response":{}},"name":null}`, `{"ceremony":"c","credential":{}}`,
		`{"ceremony":"c","credential":{"id":"a","id":"b","type":"public-key","response":{}}}`)
}

func FuzzDecodeAddDevice(f *testing.F) {
	fuzzDecode[addDeviceRequest](f, `{"kind":"totp","name":"Phone","digits":8}`, `{"kind":"sms","phone_number":"+31612345678"}`,
		`{"kind":"totp","digits":6.5}`, `{"kind":"totp","digits":1e400}`, `{"kind":"email","email":"a@example.com"}`,
		`{"kind":"call","phone_number":" "}`, `{"kind":"yubikey","otp":"ccccccbcgujhingjrdejhgfnuetrgigvejhhgbkugded"}`, `{"kind":"yubikey"}`,
		`{"kind":"sms","phone_number":"+31612345678","digits":6}`)
}

func FuzzDecodeConfirm(f *testing.F) {
	fuzzDecode[confirmRequest](f, `{"code":"123 456"}`, `{"code":["1"]}`)
}

func FuzzDecodeRename(f *testing.F) {
	fuzzDecode[renameRequest](f, `{"name":"Phone"}`, `{"name":"\u0000"}`)
}

func FuzzDecodeEmpty(f *testing.F) {
	fuzzDecode[emptyRequest](f, `{ }`, ` `, `{"all":true}`)
}

// FuzzMediaType: any Content-Type is accepted or refused with 415.
func FuzzMediaType(f *testing.F) {
	for _, s := range []string{"application/json", "application/json; charset=utf-8", "text/plain", "", ";", "application/json;charset=\"utf-8\"", "application/json; charset=utf-8; x=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		err := checkMediaType(ct)
		var p *problem
		if err != nil && (!errors.As(err, &p) || p.Status != 415) {
			t.Fatalf("%q: %v", ct, err)
		}
	})
}

// TestFuzzTargetsCoverRequests: every request type of the route table has
// a fuzz target above.
func TestFuzzTargetsCoverRequests(t *testing.T) {
	fuzzed := map[reflect.Type]bool{}
	for _, r := range []request{&loginRequest{}, &loginChallengeRequest{}, &loginVerifyRequest{}, &stepUpRequest{},
		&addDeviceRequest{}, &confirmRequest{}, &renameRequest{}, &emptyRequest{},
		&loginWebAuthnOptionsRequest{}, &loginWebAuthnVerifyRequest{}, &webauthnRegisterRequest{}} {
		fuzzed[reflect.TypeOf(r)] = true
	}
	for _, e := range endpoints {
		if e.action.input == nil {
			continue
		}
		if typ := reflect.TypeOf(e.action.input()); !fuzzed[typ] {
			t.Errorf("%s %s: request type %s has no fuzz target", e.method, e.path, typ)
		}
	}
}

package api

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// TestOpenAPIDocumentValid validates the document against the OpenAPI 3.1
// schema and builds its model without errors.
func TestOpenAPIDocumentValid(t *testing.T) {
	doc, err := libopenapi.NewDocument(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("OpenAPI version %q, want 3.1.0", v)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("build model: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Fatalf("the document is not valid OpenAPI 3.1:%s", describe(verrs))
	}
	if _, err := openapiValidator(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenAPIRoutes checks both ways that the route table and the document
// list the same operations, and that every operation documents its errors.
func TestOpenAPIRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				Security    *[]map[string][]string `json:"security"`
				RequestBody json.RawMessage        `json:"requestBody"`
				Responses   map[string]json.RawMessage
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			// What every operation of its kind can answer must be there.
			e := findEndpoint(key)
			if e == nil {
				continue
			}
			var wantStatus []string
			if e.method != "GET" {
				wantStatus = append(wantStatus, "400", "413", "415")
			}
			if e.access != public {
				wantStatus = append(wantStatus, "401")
				if op.Security == nil || len(*op.Security) == 0 {
					t.Errorf("%s needs a token but documents no security", key)
				}
			} else if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s is public but does not say security: []", key)
			}
			if e.access == verified {
				wantStatus = append(wantStatus, "403")
			}
			if strings.Contains(e.path, "{id}") {
				wantStatus = append(wantStatus, "404")
			}
			if e.path != "/api/v1/openapi.json" {
				wantStatus = append(wantStatus, "500", "503")
			}
			for _, s := range wantStatus {
				if _, ok := op.Responses[s]; !ok {
					t.Errorf("%s does not document the status %s", key, s)
				}
			}
			if (e.action.input != nil) != (op.RequestBody != nil && !bytes.Contains(op.RequestBody, []byte("requestBodies/Empty"))) {
				t.Errorf("%s: the document and the route table disagree on whether it takes a body", key)
			}
		}
	}
	registered := map[string]bool{}
	for _, e := range endpoints {
		key := e.method + " " + e.path
		if registered[key] {
			t.Errorf("%s is in the route table twice", key)
		}
		registered[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in openapi.json", key)
		}
	}
	var extra []string
	for key := range documented {
		if !registered[key] {
			extra = append(extra, key)
		}
	}
	sort.Strings(extra)
	for _, key := range extra {
		t.Errorf("openapi.json documents %s, which is not a route", key)
	}
}

func findEndpoint(key string) *endpoint {
	for i := range endpoints {
		if endpoints[i].method+" "+endpoints[i].path == key {
			return &endpoints[i]
		}
	}
	return nil
}

// TestOpenAPIServed checks that the served document is the checked-in one.
func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t, onSQLite)
	r := h.do(req{method: "GET", path: "/api/v1/openapi.json"})
	want(t, r, 200, "")
	if !bytes.Equal(r.raw, OpenAPI()) || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("served document differs from the embedded one (Content-Type %q)", r.header.Get("Content-Type"))
	}
	// Unknown paths and methods are problems too.
	tests := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/api/v1/login", 405, CodeMethodNotAllowed, "POST"},
		{"PUT", "/api/v1/mfa", 405, CodeMethodNotAllowed, "GET, HEAD, DELETE"},
		{"GET", "/api/v1/mfa/devices/x", 405, CodeMethodNotAllowed, "PATCH, DELETE"},
		{"GET", "/api/v1/nope", 404, "not_found", ""},
		{"POST", "/api/v1/mfa/devices/x/y/z", 404, "not_found", ""},
		{"GET", "/elsewhere", 404, "not_found", ""},
	}
	for _, tt := range tests {
		r := h.do(req{method: tt.method, path: tt.path, bad: true})
		want(t, r, tt.status, tt.code)
		if got := r.header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
	if !slices.ContainsFunc(endpoints, func(e endpoint) bool { return e.path == "/api/v1/openapi.json" }) {
		t.Fatal("the document's own route is missing")
	}
}

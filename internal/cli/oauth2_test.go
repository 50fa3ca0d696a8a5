package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/twofactor/twofactor/secret"
)

var clientCreated = regexp.MustCompile(`^client_id: ([a-z2-7]{26})\nclient_secret: ([A-Za-z0-9_-]{43})\n$`)

// testOAuth2Clients runs the oauth2 client commands on h.
func testOAuth2Clients(t *testing.T, h *harness) {
	out := h.ok("", "oauth2", "client", "create", "Mobile app")
	m := clientCreated.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("oauth2 client create printed %q", out)
	}
	id, sec := m[1], m[2]
	var created map[string]string
	if err := json.Unmarshal([]byte(h.ok("", "oauth2", "client", "create", "Résumé service", "--json")), &created); err != nil {
		t.Fatal(err)
	}
	if len(created) != 2 || len(created["client_id"]) != 26 || len(created["client_secret"]) != 43 {
		t.Fatalf("oauth2 client create --json printed %v", created)
	}

	// The secret authenticates the client; it is shown once and stored
	// only as a keyed hash.
	a := h.open()
	if _, err := a.Service.AuthenticateOAuthClient(context.Background(), id, sec); err != nil {
		t.Fatalf("the printed secret does not authenticate the client: %v", err)
	}
	list := h.ok("", "oauth2", "client", "list")
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "NAME") || !strings.Contains(lines[0], "CREATED") ||
		!strings.HasPrefix(lines[1], id+"  Mobile app") || !strings.HasPrefix(lines[2], created["client_id"]+"  Résumé service") {
		t.Fatalf("oauth2 client list printed:\n%s", list)
	}
	if strings.Contains(list, sec) || strings.Contains(h.ok("", "oauth2", "client", "list", "--json"), sec) {
		t.Fatal("the list shows a secret")
	}
	var listed []map[string]string
	if err := json.Unmarshal([]byte(h.ok("", "oauth2", "client", "list", "--json")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0]["client_id"] != id || listed[0]["name"] != "Mobile app" || listed[0]["created_at"] == "" {
		t.Fatalf("oauth2 client list --json: %v", listed)
	}

	h.fails(`twofactor: oauth2 client "nope" does not exist`, "oauth2", "client", "delete", "nope")
	if out := h.ok("", "oauth2", "client", "delete", id); out != `deleted oauth2 client "`+id+`"`+"\n" {
		t.Errorf("delete printed %q", out)
	}
	h.fails(`twofactor: oauth2 client "`+id+`" does not exist`, "oauth2", "client", "delete", id)
	if strings.Contains(h.ok("", "oauth2", "client", "list"), id) {
		t.Fatal("the deleted client is still listed")
	}
	h.fails("twofactor: invalid client name: This field is required", "oauth2", "client", "create", " ")
	h.fails("twofactor: invalid client name: Enter a name of at most 100 characters, without control characters",
		"oauth2", "client", "create", "a\tb")
	if out := h.ok("", "oauth2", "client", "list", "--json"); strings.TrimSpace(out) == "[]" {
		t.Fatal("a refused create or delete removed a client")
	}
}

func TestOAuth2Clients(t *testing.T) {
	h := newHarness(t)
	testOAuth2Clients(t, h)
	// The database file alone holds no usable client secret.
	out := h.ok("", "oauth2", "client", "create", "at rest")
	sec := clientCreated.FindStringSubmatch(out)[2]
	for _, name := range []string{"t.db", "t.db-wal"} {
		data, err := os.ReadFile(filepath.Join(h.dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if strings.Contains(string(data), sec) {
			t.Fatalf("the client secret is in %s", name)
		}
	}
}

func TestPostgresOAuth2Clients(t *testing.T) {
	key, err := secret.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	testOAuth2Clients(t, pgHarness(t, map[string]string{"TWOFACTOR_SECRET_KEY": key}))
}

func TestOAuth2Usage(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"oauth2"}, "twofactor: oauth2: missing subcommand"},
		{[]string{"oauth2", "client"}, "twofactor: oauth2 client: missing subcommand"},
		{[]string{"oauth2", "bogus"}, `twofactor: unknown command "oauth2 bogus"`},
		{[]string{"oauth2", "client", "bogus"}, `twofactor: unknown command "oauth2 client bogus"`},
		{[]string{"oauth2", "client", "create"}, "twofactor: missing argument NAME"},
		{[]string{"oauth2", "client", "delete"}, "twofactor: missing argument ID"},
		{[]string{"oauth2", "client", "delete", "a", "b"}, `twofactor: unexpected argument "b"`},
		{[]string{"oauth2", "client", "list", "x"}, `twofactor: unexpected argument "x"`},
	} {
		r := h.runRaw("", tt.args...)
		first, _, _ := strings.Cut(r.stderr, "\n")
		if r.code != 2 || r.stdout != "" || first != tt.want || !strings.Contains(r.stderr, "usage: twofactor") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
	r := h.runRaw("", "oauth2", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "oauth2 client create NAME") || !strings.Contains(r.stdout, "oauth2 client delete ID") {
		t.Errorf("oauth2 --help: exit %d, stdout %q", r.code, r.stdout)
	}
}

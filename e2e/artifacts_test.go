package e2e

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArtifacts checks what a failing test leaves behind, by saving the
// artifacts of a passing one: a full-page PNG screenshot, the page's
// address and text, its HTML and the steps, under TWOFACTOR_E2E_ARTIFACTS
// in a directory named after the test.
func TestArtifacts(t *testing.T) {
	root := t.TempDir()
	t.Setenv(ArtifactsVar, root) // not parallel: the environment is the process's
	s := newSite(t, nil)
	b := newBrowser(t, s)
	b.open("/account/login/")
	b.saveArtifacts()

	dir := filepath.Join(root, "TestArtifacts")
	if got := artifactDir(t); got != dir {
		t.Fatalf("artifacts directory %s, want %s", got, dir)
	}
	read := func(name string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	img, err := png.Decode(bytes.NewReader(read("screenshot.png")))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 500 || r.Dy() < 300 {
		t.Fatalf("the screenshot is %v", r)
	}
	page := string(read("page.txt"))
	if !strings.Contains(page, s.URL("/account/login/")) || !strings.Contains(page, "Enter your credentials.") {
		t.Fatalf("page.txt:\n%s", page)
	}
	if !strings.Contains(string(read("page.html")), `id="id_username"`) {
		t.Fatal("page.html is not the sign-in page")
	}
	if !strings.Contains(string(read("steps.txt")), "open /account/login/") {
		t.Fatalf("steps.txt:\n%s", read("steps.txt"))
	}

	// Without the variable, the directory is under the system's temporary
	// directory, out of the test's own (which is removed when it ends).
	t.Setenv(ArtifactsVar, "")
	if got, want := artifactDir(t), filepath.Join(os.TempDir(), "twofactor-e2e", "TestArtifacts"); got != want {
		t.Fatalf("artifacts directory %s, want %s", got, want)
	}
}

package secret

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func skipOnWindows(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no Unix permission bits")
	}
}

func TestKeyFileCreateAndReuse(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "twofactor.key")
	key, created, err := LoadOrCreateKeyFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(key) != KeySize {
		t.Fatalf("created = %v, %d bytes", created, len(key))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(key) + "\n"; string(data) != want {
		t.Errorf("file holds %d bytes, want the 64 hex characters and a newline", len(data))
	}
	if runtime.GOOS != "windows" {
		st, _ := os.Stat(path)
		if perm := st.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode = %04o, want 0600", perm)
		}
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}

	again, created, err := LoadOrCreateKeyFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(again, key) {
		t.Errorf("second call: created = %v, same key = %v", created, bytes.Equal(again, key))
	}
}

func TestKeyFileInjectedReader(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k")
	key, _, err := LoadOrCreateKeyFile(path, bytes.NewReader(testKey(3)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key, testKey(3)) {
		t.Errorf("key = %x, want the injected bytes", key)
	}
	if _, _, err := LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "k"), &failingReader{err: errBroken}); err == nil {
		t.Errorf("failing reader: no error")
	}
}

func TestKeyFileExisting(t *testing.T) {
	t.Parallel()
	hexKey := hex.EncodeToString(testKey(5))
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr string
		unix    bool // the check needs Unix permission bits
	}{
		{"hex", hexKey + "\n", 0o600, "", false},
		{"hex without newline", hexKey, 0o600, "", false},
		{"read-only owner", hexKey, 0o400, "", false},
		{"group readable", hexKey, 0o640, "chmod 600", true},
		{"world readable", hexKey, 0o644, "chmod 600", true},
		{"group writable", hexKey, 0o620, "chmod 600", true},
		{"garbage", "hello world\n", 0o600, "64 hex characters", false},
		{"empty", "", 0o600, "empty", false},
		{"short key", hexKey[:62], 0o600, "got 31 bytes", false},
		{"too large", strings.Repeat("a", 10000), 0o600, "too large", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.unix {
				skipOnWindows(t)
			}
			path := filepath.Join(t.TempDir(), "twofactor.key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			key, created, err := LoadOrCreateKeyFile(path, nil)
			if tt.wantErr == "" {
				if err != nil || created || !bytes.Equal(key, testKey(5)) {
					t.Fatalf("got %x, created %v, err %v", key, created, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if strings.Contains(err.Error(), hexKey[:16]) {
				t.Errorf("error %q echoes the key", err)
			}
			// A refused file is never replaced.
			data, _ := os.ReadFile(path)
			if string(data) != tt.content {
				t.Errorf("file was modified")
			}
		})
	}
}

func TestKeyFileNotRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "twofactor.key")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(path, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as key file: err = %v", err)
	}
}

func TestKeyFileMissingDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "missing", "twofactor.key")
	if _, _, err := LoadOrCreateKeyFile(path, nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("the missing directory was created")
	}
	// A parent that is a file, not a directory.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	if _, _, err := LoadOrCreateKeyFile(filepath.Join(file, "twofactor.key"), nil); err == nil {
		t.Errorf("parent is a file: no error")
	}
}

// TestKeyFileConcurrentCreate: of 20 goroutines racing to create the key
// file, exactly one creates it and all get the same key.
func TestKeyFileConcurrentCreate(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		path := filepath.Join(t.TempDir(), "twofactor.key")
		const n = 20
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			keys    = map[string]int{}
			created int
			start   = make(chan struct{})
		)
		for range n {
			wg.Go(func() {
				<-start
				key, c, err := LoadOrCreateKeyFile(path, nil)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("round %d: %v", round, err)
					return
				}
				keys[string(key)]++
				if c {
					created++
				}
			})
		}
		close(start)
		wg.Wait()
		if created != 1 || len(keys) != 1 {
			t.Fatalf("round %d: %d creators, %d distinct keys; want 1 and 1", round, created, len(keys))
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("round %d: %d directory entries left, want 1", round, len(entries))
		}
	}
}

package secret

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// maxKeyFileSize bounds how much of a key file is read: a key is 64
// characters and a newline, and a huge file (or /dev/zero) must not be read
// into memory.
const maxKeyFileSize = 4096

// LoadOrCreateKeyFile returns the secret key stored in the file at path,
// creating the file with a new random key (from r, crypto/rand when nil) if
// it does not exist. created reports whether this call created it.
//
// This is the first-run key of a SQLite installation without a configured
// secret_key. The rules, and the mistakes they prevent:
//
//   - An existing file that group or others may read (mode & 0o077 != 0) is
//     refused: any local user could otherwise read the key and decrypt a
//     copy of the database. The error says to chmod 600 the file. (Windows
//     has no such mode bits, and the check is skipped there.)
//   - An existing file that does not hold a valid key is refused, never
//     overwritten: replacing a key makes every value sealed under it
//     unreadable.
//   - A new file is written with mode 0600 under a temporary name, synced,
//     and then linked into place, which fails if path exists. Of several
//     processes starting at once, exactly one creates the key and the others
//     read it; none ever sees a half-written file.
//   - The directory must already exist: creating it would hide a mistyped
//     path.
func LoadOrCreateKeyFile(path string, r io.Reader) (key []byte, created bool, err error) {
	key, err = readKeyFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return nil, false, fmt.Errorf("key file %s: directory %s does not exist or cannot be read: %w", path, dir, err)
	} else if !st.IsDir() {
		return nil, false, fmt.Errorf("key file %s: %s is not a directory", path, dir)
	}

	hexKey, err := GenerateKey(r)
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	err = createKeyFile(path, []byte(hexKey+"\n"))
	if errors.Is(err, fs.ErrExist) {
		// Another process created the key first: use theirs.
		key, err := readKeyFileRetry(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	key, err = ParseKey(hexKey)
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, true, nil
}

// readKeyFile reads and checks an existing key file. Errors wrap
// fs.ErrNotExist when there is no file.
func readKeyFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	// Only regular files: opening a FIFO would block start-up forever, and a
	// directory or device is certainly not a key.
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	defer f.Close()
	// Check the mode of the file actually opened (it may have been replaced
	// since the Stat above).
	st, err = f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("key file %s is readable by group or others (mode %04o): run chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("key file %s: too large to be a secret key", path)
	}
	key, err := ParseKey(string(data))
	clear(data)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

// readKeyFileRetry reads a key file that another process has just created.
// With the link method it is complete at once; the loop only covers the
// fallback for file systems without hard links, where the file may be seen
// before its writer has finished.
func readKeyFileRetry(path string) ([]byte, error) {
	var err error
	for range 50 {
		var key []byte
		key, err = readKeyFile(path)
		if err == nil {
			return key, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

// createKeyFile writes content to a new file at path with mode 0600, failing
// with an error wrapping fs.ErrExist if path already exists.
func createKeyFile(path string, content []byte) (err error) {
	dir := filepath.Dir(path)
	// The temporary file is created with O_EXCL and mode 0600 from the start,
	// so the key is never readable by others, not even for a moment.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		// The temporary name is removed in every case; after a successful
		// link the key stays reachable through path.
		os.Remove(tmpName)
	}()
	if err := writeSync(tmp, content); err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// Some file systems have no hard links: fall back to creating path
		// itself exclusively.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return err
			}
			return fmt.Errorf("key file %s: %w", path, err)
		}
		if err := writeSync(f, content); err != nil {
			os.Remove(path)
			return fmt.Errorf("key file %s: %w", path, err)
		}
	}
	syncDir(dir)
	return nil
}

// writeSync sets mode 0600 on f (explicitly, rather than relying on how f
// was created), writes content, makes it durable and closes f.
func writeSync(f *os.File, content []byte) error {
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes the new directory entry durable, so that a crash right after
// start-up cannot lose the key while data sealed under it survives. It is
// best effort: some systems cannot sync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

//go:build linux

package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair with the standard library only, or
// skips the test when the system has none.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("unlock pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("pseudo-terminal number: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestPasswordPrompt types passwords on a terminal: asked twice, without
// echo; a mismatch is refused.
func TestPasswordPrompt(t *testing.T) {
	tests := []struct {
		name, typed string
		code        int
		stdout      string
		stderr      string
	}{
		{"match", "password-dave\npassword-dave\n", 0, "created user \"dave\"\n", "Password: \nPassword (again): \n"},
		{"mismatch", "password-eve1\npassword-eve2\n", 1, "", "Password: \nPassword (again): \ntwofactor: the passwords do not match\n"},
	}
	h := newHarness(t)
	h.ok("", "migrate") // creates the key file, and its warning, first
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			master, slave := openPTY(t)
			if _, err := master.Write([]byte(tt.typed)); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			name := []string{"dave", "eve"}[i]
			code := h.program(slave, &out, &errb).Run(context.Background(), []string{"user", "create", name, "--database", h.db})
			if code != tt.code || out.String() != tt.stdout || errb.String() != tt.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out.String(), errb.String(), tt.code, tt.stdout, tt.stderr)
			}
		})
	}
	a := h.open()
	if _, err := a.Service.Users().Authenticate(context.Background(), "dave", "password-dave"); err != nil {
		t.Errorf("dave cannot sign in with the password typed: %v", err)
	}
}

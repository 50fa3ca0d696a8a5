package yubikey_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/twofactor/twofactor/yubikey"
)

func TestModhexVectors(t *testing.T) {
	tests := []struct {
		plain  []byte
		modhex string
	}{
		{[]byte("abcdefghijklmnop"), "hbhdhehfhghhhihjhkhlhnhrhthuhvic"}, // yubiotp doctest
		{nil, ""},
		{[]byte{0x00}, "cc"},
		{[]byte{0xff}, "vv"},
		{[]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}, "cbdefghijklnrtuv"},
		{[]byte{0x00, 0x00, 0x00, 0x01}, "cccccccb"}, // django-otp-yubikey public id of pk 1
	}
	for _, tt := range tests {
		if got := yubikey.EncodeModhex(tt.plain); got != tt.modhex {
			t.Errorf("EncodeModhex(%x) = %q, want %q", tt.plain, got, tt.modhex)
		}
		for _, in := range []string{tt.modhex, strings.ToUpper(tt.modhex)} {
			got, err := yubikey.DecodeModhex(in)
			if err != nil || !bytes.Equal(got, tt.plain) {
				t.Errorf("DecodeModhex(%q) = %x, %v; want %x", in, got, err, tt.plain)
			}
			if !yubikey.IsModhex(in) {
				t.Errorf("IsModhex(%q) = false", in)
			}
		}
	}
}

func TestModhexRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"odd length", "cbd"},
		{"single", "c"},
		{"hex digit", "c0"},
		{"letter a", "ac"},
		{"letter m", "cm"},
		{"letter z", "zz"},
		{"space", "c "},
		{"non-ascii", "cé"},
		{"nul", "c\x00"},
		{"high byte", "\xe3c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if yubikey.IsModhex(tt.in) {
				t.Errorf("IsModhex(%q) = true", tt.in)
			}
			if _, err := yubikey.DecodeModhex(tt.in); !errors.Is(err, yubikey.ErrMalformed) {
				t.Errorf("DecodeModhex(%q) err = %v, want ErrMalformed", tt.in, err)
			}
		})
	}
}

func TestModhexAllBytes(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	enc := yubikey.EncodeModhex(all)
	if len(enc) != 512 || !yubikey.IsModhex(enc) {
		t.Fatalf("EncodeModhex(all bytes) = %q", enc)
	}
	dec, err := yubikey.DecodeModhex(enc)
	if err != nil || !bytes.Equal(dec, all) {
		t.Fatalf("round trip failed: %v", err)
	}
}

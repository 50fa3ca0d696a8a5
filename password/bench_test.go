package password

import "testing"

// BenchmarkHashDefault measures argon2id with OWASP's parameters
// (DefaultParams): the cost of every sign-in and password change.
func BenchmarkHashDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Hash("correct horse battery staple", DefaultParams, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h, err := Hash("correct horse battery staple", DefaultParams, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := Verify("correct horse battery staple", h); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkVerifyPBKDF2 verifies an imported Django hash with 870,000
// iterations of PBKDF2-HMAC-SHA256 (Django 5.1's default).
func BenchmarkVerifyPBKDF2(b *testing.B) {
	const h = "pbkdf2_sha256$870000$Zx8Yq2mN4pL0$cf6urUhLzyqbLh+ffB7yvg3WkWq3l2DRdZizRPjirLo="
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := Verify("correct horse battery staple", h); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkDummy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Dummy("correct horse battery staple")
	}
}

package secret

import "testing"

func BenchmarkSeal20(b *testing.B) {
	k := mustKeyring(b, testKey(0))
	pt := make([]byte, 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(pt, testAAD); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen20(b *testing.B) {
	k := mustKeyring(b, testKey(0))
	ct, _ := k.Seal(make([]byte, 20), testAAD)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(ct, testAAD); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	k := mustKeyring(b, testKey(0))
	data := []byte("k7m2px9qrt")
	b.ReportAllocs()
	for b.Loop() {
		k.Hash("backup-code", data)
	}
}

func BenchmarkHashes3Keys(b *testing.B) {
	k := mustKeyring(b, testKey(0), testKey(1), testKey(2))
	data := []byte("k7m2px9qrt")
	b.ReportAllocs()
	for b.Loop() {
		k.Hashes("backup-code", data)
	}
}

func BenchmarkRandomStringBackup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RandomString(nil, BackupAlphabet, 10); err != nil {
			b.Fatal(err)
		}
	}
}

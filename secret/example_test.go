package secret_test

import (
	"fmt"
	"log"

	"github.com/twofactor/twofactor/secret"
)

func Example() {
	// In a server the key comes from the configuration (secret_key).
	keyHex, err := secret.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	key, err := secret.ParseKey(keyHex)
	if err != nil {
		log.Fatal(err)
	}
	ring, err := secret.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}

	// A TOTP key is sealed for one column of one row...
	where := secret.AAD{Table: "devices", Column: "key", Row: "dev_1"}
	sealed, err := ring.Seal([]byte("JBSWY3DPEHPK3PXP"), where)
	if err != nil {
		log.Fatal(err)
	}
	plain, err := ring.Open(sealed, where)
	fmt.Println(string(plain), err)

	// ...and cannot be opened anywhere else.
	_, err = ring.Open(sealed, secret.AAD{Table: "devices", Column: "key", Row: "dev_2"})
	fmt.Println(err)
	// Output:
	// JBSWY3DPEHPK3PXP <nil>
	// secret: ciphertext failed authentication
}

func ExampleKeyring_Hash() {
	key, _ := secret.ParseKey("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
	ring, _ := secret.NewKeyring(key)

	code, _ := secret.RandomString(nil, secret.BackupAlphabet, 10)
	stored := ring.Hash("backup-code", []byte(code)) // only this is stored

	// Later the user types the code back.
	fmt.Println(secret.Equal(ring.Hash("backup-code", []byte(code)), stored))
	fmt.Println(len(stored), ring.ID())
	// Output:
	// true
	// 36 9ee55132
}

func ExampleKeyring_Reseal() {
	oldKey, _ := secret.ParseKey("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
	newKey, _ := secret.ParseKey("2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40")
	where := secret.AAD{Table: "devices", Column: "key", Row: "dev_1"}

	before, _ := secret.NewKeyring(oldKey)
	sealed, _ := before.Seal([]byte("totp key"), where)

	// secret_key = new key, secret_keys_old = [old key]
	after, _ := secret.NewKeyring(newKey, oldKey)
	if after.NeedsRotation(sealed) {
		sealed, _ = after.Reseal(sealed, where)
	}
	fmt.Println(after.NeedsRotation(sealed))
	// Output: false
}

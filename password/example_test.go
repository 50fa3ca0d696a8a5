package password_test

import (
	"fmt"
	"log"

	"github.com/twofactor/twofactor/password"
)

func Example() {
	stored, err := password.Hash("correct horse battery staple", password.DefaultParams, nil)
	if err != nil {
		log.Fatal(err)
	}
	ok, err := password.Verify("correct horse battery staple", stored)
	fmt.Println(ok, err)
	ok, err = password.Verify("Tr0ub4dor&3", stored)
	fmt.Println(ok, err)
	// Output:
	// true <nil>
	// false <nil>
}

// A user migrated from a Django site signs in with their old password; the
// hash is then replaced with an argon2id one.
func ExampleNeedsRehash() {
	stored := "pbkdf2_sha256$1000$seasalt$JgZryXe2Ga8ysg6XbzkLpTdyPQrHqsinbL9BnnhgX4A="
	ok, err := password.Verify("lètmein", stored)
	if err != nil {
		log.Fatal(err)
	}
	if ok && password.NeedsRehash(stored, password.DefaultParams) {
		stored, err = password.Hash("lètmein", password.DefaultParams, nil)
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(ok, stored[:30])
	// Output: true $argon2id$v=19$m=19456,t=2,p=1
}

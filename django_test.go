package twofactor_test

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
)

// djangoPBKDF2 returns the base64 hash part of a Django pbkdf2_sha256 string.
func djangoPBKDF2(pw, salt string, iterations int) string {
	k, err := pbkdf2.Key(sha256.New, pw, []byte(salt), iterations, 32)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

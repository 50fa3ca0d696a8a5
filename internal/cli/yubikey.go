package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/yubikey"
)

// setupYubiKeyAdd: twofactor yubikey add NAME --public-id MODHEX
// (--private-id HEX --aes-key HEX | --remote) [--name LABEL].
func setupYubiKeyAdd(fs *flag.FlagSet) runFunc {
	publicID := fs.String("public-id", "", "the key's public id, in `MODHEX` (the first characters of its OTPs)")
	privateID := fs.String("private-id", "", "a local key's private id: 12 `HEX` digits")
	aesKey := fs.String("aes-key", "", "a local key's AES-128 key: 32 `HEX` digits")
	remote := fs.Bool("remote", false, "check the key's OTPs with the validation service (yubikey.*) instead")
	name := fs.String("name", "", "the device's `LABEL` (default \"YubiKey\")")
	return func(ctx context.Context, e *env) error {
		spec := twofactor.YubiKeySpec{Name: *name, PublicID: *publicID, Remote: *remote}
		if setFlags(fs)["name"] && *name == "" {
			return errors.New("invalid --name: must not be empty")
		}
		if *remote {
			if e.app.Gateways.YubiCloud == nil {
				return errors.New("--remote needs the YubiKey validation service: set yubikey.api_key (and yubikey.api_id, yubikey.validation_url)")
			}
		} else {
			// The values are secrets: the messages never repeat them.
			var err error
			if spec.PrivateID, err = yubikey.ParsePrivateID(*privateID); err != nil {
				return errors.New("invalid --private-id: must be 12 hexadecimal digits")
			}
			if spec.AESKey, err = yubikey.ParseAESKey(*aesKey); err != nil {
				return errors.New("invalid --aes-key: must be 32 hexadecimal digits")
			}
		}
		u, err := e.lookupUser(ctx, e.args[0])
		if err != nil {
			return err
		}
		d, err := e.app.Service.AddYubiKey(ctx, twofactor.OperatorActor(u.ID), spec)
		if twofactor.CodeOf(err) == twofactor.CodeConflict {
			return fmt.Errorf("user %q already has the YubiKey %s", u.Username, strings.ToLower(*publicID))
		}
		if err != nil {
			return forUser(u.Username, err)
		}
		fmt.Fprintf(e.p.Stdout, "added YubiKey (device %s)\n", d.ID)
		return nil
	}
}

// checkYubiKeyAdd checks the flag combination of `yubikey add`: a public
// id, and either --remote or both local keys.
func checkYubiKeyAdd(fs *flag.FlagSet) error {
	set := setFlags(fs)
	remote := fs.Lookup("remote").Value.String() == "true"
	switch {
	case !set["public-id"]:
		return errors.New("missing flag --public-id")
	case remote && (set["private-id"] || set["aes-key"]):
		return errors.New("--remote cannot be used with --private-id or --aes-key (a remote key's secrets stay with the validation service)")
	case !remote && !set["private-id"]:
		return errors.New("missing flag --private-id (or --remote)")
	case !remote && !set["aes-key"]:
		return errors.New("missing flag --aes-key (or --remote)")
	}
	return nil
}

package twofactor

import (
	"context"
	"strings"

	"github.com/twofactor/twofactor/secret"
)

// newBackupCodes returns count fresh codes from the unambiguous alphabet
// (no 0/O/1/l/i), each with at least one letter.
func (s *Service) newBackupCodes() (codes []string, hashes [][]byte, err error) {
	seen := map[string]bool{}
	for len(codes) < s.opts.BackupCodeCount {
		c, err := secret.RandomString(s.rand, secret.BackupAlphabet, s.opts.BackupCodeLength)
		if err != nil {
			return nil, nil, err
		}
		if seen[c] || strings.Trim(c, "0123456789") == "" {
			continue
		}
		seen[c] = true
		codes = append(codes, formatBackupCode(c))
		hashes = append(hashes, s.keys.Hash(hashPurposeBackupCode, []byte(c)))
	}
	return codes, hashes, nil
}

// RegenerateBackupCodes replaces the actor's backup codes with a new set and
// returns it; it is the only time the codes are available. Only keyed
// hashes are stored. It needs step-up, and two-factor must be on.
func (s *Service) RegenerateBackupCodes(ctx context.Context, a Actor) ([]string, error) {
	enabled, err := s.Enabled(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if !enabled {
		return nil, &Error{Code: CodeNoDevice, Message: msgNoDevice}
	}
	if err := s.requireStepUp(ctx, a); err != nil {
		return nil, err
	}
	return s.replaceBackupCodes(ctx, a)
}

func (s *Service) replaceBackupCodes(ctx context.Context, a Actor) ([]string, error) {
	codes, hashes, err := s.newBackupCodes()
	if err != nil {
		return nil, internal("new backup codes", err)
	}
	id, err := s.newID()
	if err != nil {
		return nil, internal("new device id", err)
	}
	static := &Device{ID: id, UserID: a.UserID, Kind: KindStatic, Name: "Backup codes", Confirmed: true,
		CreatedAt: s.clock.Now(), Counter: -1}
	d, err := s.store.ReplaceBackupCodes(ctx, static, hashes)
	if err != nil {
		return nil, internal("store backup codes", err)
	}
	s.emit(ctx, deviceEvent(EventBackupCodesRegenerated, d, OutcomeSuccess, a.reason()))
	return codes, nil
}

// BackupCodesRemaining returns how many unused backup codes the user has.
func (s *Service) BackupCodesRemaining(ctx context.Context, userID string) (int, error) {
	n, err := s.store.CountBackupCodes(ctx, userID)
	if err != nil {
		return 0, internal("count backup codes", err)
	}
	return n, nil
}

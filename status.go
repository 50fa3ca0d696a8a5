package twofactor

import (
	"context"
	"errors"
)

// Status summarises a user's two-factor state.
type Status struct {
	// Enabled is true when the user has a confirmed primary device.
	Enabled bool
	// Primary is the primary device, nil when disabled.
	Primary *Device
	// Devices are all the user's devices except the backup-code device:
	// the primary first, then by creation time.
	Devices []Device
	// BackupCodes is the number of unused backup codes, and BackupDevice
	// the device that holds them (nil when none was ever generated).
	BackupCodes  int
	BackupDevice *Device
}

// Status returns the user's two-factor state.
func (s *Service) Status(ctx context.Context, userID string) (*Status, error) {
	all, err := s.store.DevicesByUser(ctx, userID)
	if err != nil {
		return nil, internal("load devices", err)
	}
	st := &Status{}
	for _, d := range all {
		if d.Kind == KindStatic {
			st.BackupDevice = &d
		} else {
			st.Devices = append(st.Devices, d)
		}
	}
	for i := range st.Devices {
		if st.Devices[i].Primary && st.Devices[i].Confirmed {
			st.Enabled, st.Primary = true, &st.Devices[i]
		}
	}
	st.BackupCodes, err = s.store.CountBackupCodes(ctx, userID)
	if err != nil {
		return nil, internal("count backup codes", err)
	}
	return st, nil
}

// Enabled reports whether the user has two-factor authentication on, that is
// a confirmed primary device.
func (s *Service) Enabled(ctx context.Context, userID string) (bool, error) {
	d, err := s.primary(ctx, userID)
	if err != nil {
		return false, err
	}
	return d != nil, nil
}

// primary returns the user's confirmed primary device, or nil.
func (s *Service) primary(ctx context.Context, userID string) (*Device, error) {
	all, err := s.store.DevicesByUser(ctx, userID)
	if err != nil {
		return nil, internal("load devices", err)
	}
	for i := range all {
		if all[i].Primary && all[i].Confirmed {
			return &all[i], nil
		}
	}
	return nil, nil
}

// Device returns the user's device with that id. Another user's device is
// reported as not found, exactly like a missing one.
func (s *Service) Device(ctx context.Context, userID, id string) (*Device, error) {
	d, err := s.store.DeviceByID(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && d.UserID != userID) {
		return nil, errNotFound("device")
	}
	if err != nil {
		return nil, internal("load device", err)
	}
	return d, nil
}

// verifiableDevice returns the user's device that may verify a code: the
// named one if it is the user's and confirmed, else the primary.
func (s *Service) verifiableDevice(ctx context.Context, userID, deviceID string) (*Device, error) {
	if deviceID == "" {
		d, err := s.primary(ctx, userID)
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, &Error{Code: CodeNoDevice, Message: msgNoDevice}
		}
		return d, nil
	}
	d, err := s.Device(ctx, userID, deviceID)
	if err != nil {
		return nil, err
	}
	if !d.Confirmed {
		return nil, errNotFound("device")
	}
	return d, nil
}

// staticDevice returns the user's backup-code device; a user without one (or
// without two-factor) has nothing a backup code could verify against.
func (s *Service) staticDevice(ctx context.Context, userID string) (*Device, error) {
	all, err := s.store.DevicesByUser(ctx, userID)
	if err != nil {
		return nil, internal("load devices", err)
	}
	for i := range all {
		if all[i].Kind == KindStatic {
			return &all[i], nil
		}
	}
	return nil, &Error{Code: CodeNoDevice, Message: msgNoDevice, Reason: ReasonNoBackupCodes}
}

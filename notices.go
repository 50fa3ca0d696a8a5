package twofactor

import (
	"context"
	"time"
)

// noticeTimeout bounds the sending of one notice.
const noticeTimeout = 10 * time.Second

// noticeEvents are the events users are told about by email (SPEC §8.3).
var noticeEvents = map[EventKind]bool{
	EventBackupCodeUsed:    true,
	EventTwoFactorDisabled: true,
	EventDeviceAdded:       true,
}

// sendNotice emails the user about a security event, when a mailer is
// configured and the user has an address: a user whose account is being
// taken over learns of it. A failure is logged; the event has happened.
func (s *Service) sendNotice(ctx context.Context, e Event) {
	if s.mailer == nil || !noticeEvents[e.Kind] {
		return
	}
	u, err := s.users.UserByID(ctx, e.UserID)
	if err != nil || u.Email == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), noticeTimeout)
	defer cancel()
	n := Notice{To: u.Email, Site: s.opts.Site, Language: e.Language, Event: e.Kind}
	if err := s.mailer.SendNotice(ctx, n); err != nil {
		s.log.WarnContext(ctx, "security notice not sent", "event", string(e.Kind), "user", e.UserID, "err", err)
	}
}

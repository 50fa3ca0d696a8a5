package smtp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/twofactor/twofactor"
)

// The English wording of the emails: message ids a Translator looks up
// (printf formats, as in the i18n catalogs). A translation keeps the verbs.
const (
	// The code email: subject, the code, what to do if it was not asked for.
	MsgCodeSubject = "%s verification code"
	MsgCodeBody    = "Your %[1]s verification code is %[2]s."
	MsgCodeIgnore  = "If you did not ask for this code, someone may know your password: change it."

	// The notice that a backup code was used.
	MsgBackupUsedSubject = "A backup code was used on %s"
	MsgBackupUsedBody    = "A backup code was just used to sign in to your account on %s. That code cannot be used again."
	MsgBackupUsedAction  = "If this was not you, someone knows your password and has one of your backup codes: change your password, make new backup codes and check your two-factor devices."

	// The notice that two-factor authentication was turned off.
	MsgDisabledSubject = "Two-factor authentication was turned off on %s"
	MsgDisabledBody    = "Two-factor authentication was just turned off for your account on %s. Signing in now takes only your password."
	MsgDisabledAction  = "If this was not you, change your password right away, turn two-factor authentication back on and contact the site's support."

	// The notice that a device was added.
	MsgDeviceAddedSubject = "A two-factor device was added on %s"
	MsgDeviceAddedBody    = "A new two-factor device was just added to your account on %s."
	MsgDeviceAddedAction  = "If this was not you, remove that device, change your password and contact the site's support."
)

// Messages lists the message ids of the default templates, for catalogs
// and their tests.
func Messages() []string {
	return []string{
		MsgCodeSubject, MsgCodeBody, MsgCodeIgnore,
		MsgBackupUsedSubject, MsgBackupUsedBody, MsgBackupUsedAction,
		MsgDisabledSubject, MsgDisabledBody, MsgDisabledAction,
		MsgDeviceAddedSubject, MsgDeviceAddedBody, MsgDeviceAddedAction,
	}
}

// Translator formats the message id in the language lang (a BCP 47 tag)
// with args, as fmt.Sprintf would for the English id, and returns English
// for what it does not know. An i18n.Localizer fits:
// func(lang, id string, args ...any) string { return
// catalog.Localizer(catalog.Match(lang)).T(id, args...) }.
type Translator func(lang, id string, args ...any) string

// t writes a call of the template method T with a quoted message id.
func t(id string, args ...string) string {
	return "{{.T " + strconv.Quote(id) + joinArgs(args) + "}}"
}

func joinArgs(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return " " + strings.Join(args, " ")
}

// The default templates of the code email. Templates are text/template
// (HTML: html/template) and see a CodeData: .Site, .Code and .T, which
// translates a message id into the recipient's language.
var (
	// DefaultSubject is the code email's subject: "{site} verification code".
	DefaultSubject = t(MsgCodeSubject, ".Site")
	// DefaultBody is the code email's text: the code and the site name.
	DefaultBody = t(MsgCodeBody, ".Site", ".Code") + "\n\n" + t(MsgCodeIgnore) + "\n"
	// DefaultHTML is an HTML alternative for Config.HTML; there is none
	// unless configured.
	DefaultHTML = "<!DOCTYPE html>\n<html><body>\n<p>" + t(MsgCodeBody, ".Site", ".Code") + "</p>\n<p>" +
		t(MsgCodeIgnore) + "</p>\n</body></html>\n"
)

// Templates are the subject and text (and optionally HTML) templates of one
// email.
type Templates struct {
	Subject, Text, HTML string
}

// DefaultNotices are the notice templates for each event kind. Their
// templates see a NoticeData: .Site, .Event and .T. A notice says what
// happened and what to do if it was not the user; it carries no code and
// no link.
func DefaultNotices() map[twofactor.EventKind]Templates {
	notice := func(subject, body, action string) Templates {
		return Templates{Subject: t(subject, ".Site"), Text: t(body, ".Site") + "\n\n" + t(action) + "\n"}
	}
	return map[twofactor.EventKind]Templates{
		twofactor.EventBackupCodeUsed:    notice(MsgBackupUsedSubject, MsgBackupUsedBody, MsgBackupUsedAction),
		twofactor.EventTwoFactorDisabled: notice(MsgDisabledSubject, MsgDisabledBody, MsgDisabledAction),
		twofactor.EventDeviceAdded:       notice(MsgDeviceAddedSubject, MsgDeviceAddedBody, MsgDeviceAddedAction),
	}
}

// translate returns the message in lang, or English.
func translate(tr Translator, lang, id string, args ...any) string {
	if tr != nil && lang != "" {
		if s := tr(lang, id, args...); strings.TrimSpace(s) != "" {
			return s
		}
	}
	return fmt.Sprintf(id, args...)
}

// CodeData is what the code email's templates see.
type CodeData struct {
	// Site is the site name, Code the code.
	Site, Code string

	lang string
	tr   Translator
}

// T translates a message id into the recipient's language.
func (d CodeData) T(id string, args ...any) string { return translate(d.tr, d.lang, id, args...) }

// NoticeData is what a notice's templates see.
type NoticeData struct {
	// Site is the site name, Event what happened.
	Site  string
	Event twofactor.EventKind

	lang string
	tr   Translator
}

// T translates a message id into the recipient's language.
func (d NoticeData) T(id string, args ...any) string { return translate(d.tr, d.lang, id, args...) }

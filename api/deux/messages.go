package deux

// The messages of deux and of Django REST framework that deux's clients
// see, word for word (SPEC §7.2: a client written for deux must not tell
// the difference), and the few of this package's own.
const (
	msgBothCodes        = "Login does not take both a verification and backup code."
	msgDisabled         = "Two factor authentication is not enabled."
	msgEnabled          = "Two factor authentication is already enabled."
	msgInvalidBackup    = "Please enter a valid backup code."
	msgInvalidLogin     = "Unable to log in with provided credentials."
	msgInvalidCode      = "Please enter a valid code."
	msgInvalidPhone     = "Please enter a valid phone number."
	msgSMSFailed        = "SMS failed to send."
	msgNotAuthenticated = "Authentication credentials were not provided."
	msgPermissionDenied = "You do not have permission to perform this action."
	msgThrottled        = "Request was throttled."

	msgRequired  = "This field is required."
	msgNull      = "This field may not be null."
	msgBlank     = "This field may not be blank."
	msgNotString = "Not a valid string."
	msgNullChars = "Null characters are not allowed."
	msgNoData    = "No data provided"

	// msgStepUp is this package's own: deux showed the recovery code to
	// any token.
	msgStepUp = "Please sign in again with your verification code to get a new backup code."
)

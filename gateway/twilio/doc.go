// Package twilio sends codes by text message and reads them out by voice
// call through Twilio's REST API (github.com/twilio/twilio-go), and builds
// the TwiML scripts and checks the webhook signatures of those calls.
//
// # Sending
//
// [New] makes a [Gateway] from the twilio.* settings. It implements
// twofactor.SMSSender (a Message resource with the code and the site name
// in its body, sent from the messaging service when one is configured,
// else from the caller id) and twofactor.Caller (a Call resource whose Url
// points back at this server). Twilio refusing the number itself (invalid,
// unreachable, not a mobile number: see [InvalidDestinationCodes]) is
// reported as twofactor.ErrInvalidDestination; anything else — an HTTP
// 5xx, a timeout, a refused connection, bad credentials — as
// twofactor.ErrGatewayUnavailable. Config.BaseURL points the gateway at
// another API host (a regional edge, or the test server of
// internal/twiliotest).
//
// # Calls
//
// A call does not carry its code. The core keeps the code under an opaque
// call id (twofactor.Message.CallID); the Call resource's Url is
// PublicURL + "/twilio/inbound/two_factor/" + id + "/" ([CallbackURL]).
// When the callee answers, Twilio fetches that URL (GET); the web layer
// checks the request with [ValidateRequest] and answers with [Greeting]
// ("press any key"), whose Gather posts the key press back to a URL of the
// web layer's choosing; that request, checked the same way, is answered
// with [Digits], which reads the code digit by digit (leading zeros
// included) and then once more. The scripts are pure functions returning
// TwiML (content type [ContentType]); [Script] does the same in the
// wording of a [Translator]. The voice speaks only languages Twilio
// accepts: [VoiceLanguage] maps the user's language onto them and falls
// back to English.
//
// [Gateway.Webhook] (or [NewWebhook]) is that web layer, ready to mount:
// it checks every request's signature (403 otherwise), finds the call's
// script through [CallScripts] — a *twofactor.Service — by the id in the
// path (404 for an unknown or expired call), and answers the greeting to
// GET and the digits to POST.
//
// # What this package never does
//
// It never logs (so never a code, a number or the auth token), never puts
// a code in a URL (the call id must not contain it), never builds a message
// with more than the code and the site name, and never accepts a webhook
// request without a valid X-Twilio-Signature.
package twilio

//go:build tools

// Package tools pins dependencies that later packages use, so that helpers
// working in parallel never need to edit go.mod.
package tools

import (
	_ "github.com/chromedp/cdproto/webauthn"
	_ "github.com/chromedp/chromedp"
	_ "github.com/emersion/go-smtp"
	_ "github.com/go-oauth2/oauth2/v4/manage"
	_ "github.com/go-oauth2/oauth2/v4/server"
	_ "github.com/go-webauthn/webauthn/webauthn"
	_ "github.com/nyaruka/phonenumbers"
	_ "github.com/pb33f/libopenapi"
	_ "github.com/pb33f/libopenapi-validator"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/twilio/twilio-go"
	_ "github.com/twilio/twilio-go/client"
	_ "github.com/twilio/twilio-go/rest/api/v2010"
	_ "github.com/twilio/twilio-go/twiml"
	_ "github.com/wneessen/go-mail"
	_ "golang.org/x/text/language"
	_ "golang.org/x/time/rate"
)

package twiliotest

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Said is one <Say> the callee heard.
type Said struct {
	Text     string
	Language string // the language attribute, "" when absent
}

// Fetch is one webhook request the server made for a call.
type Fetch struct {
	Method string
	URL    string // the full URL, query included
	Status int    // the HTTP status of the answer, 0 when there was none
}

// Transcript is what happened in a call.
type Transcript struct {
	CallSID string
	// Fetches are the TwiML requests, in order.
	Fetches []Fetch
	// Documents are the TwiML documents received, in order.
	Documents []string
	// Said is every <Say> the callee heard, in order (inside a <Gather>
	// too).
	Said []Said
	// Pressed is the key pressed at a <Gather> ("" if none was).
	Pressed string
	// Err is why the call failed (a failed or unsigned-looking fetch, bad
	// TwiML), or nil when it ran to its end.
	Err error
}

// Digits returns the digits the call read out: the first run of <Say>s of
// one digit each. A code read twice must be the same both times; a call
// with no digits, or that failed, is an error.
func (t Transcript) Digits() (string, error) {
	if t.Err != nil {
		return "", t.Err
	}
	var runs []string
	var cur strings.Builder
	for _, s := range t.Said {
		if len(s.Text) == 1 && s.Text[0] >= '0' && s.Text[0] <= '9' {
			cur.WriteString(s.Text)
			continue
		}
		if cur.Len() > 0 {
			runs = append(runs, cur.String())
			cur.Reset()
		}
	}
	if cur.Len() > 0 {
		runs = append(runs, cur.String())
	}
	if len(runs) == 0 {
		return "", errNoDigits
	}
	for _, r := range runs[1:] {
		if r != runs[0] {
			return "", fmt.Errorf("twiliotest: the call read %q and then %q", runs[0], r)
		}
	}
	return runs[0], nil
}

// sayLanguages are the <Say language> values the server accepts (Twilio's
// classic voices).
var sayLanguages = map[string]bool{}

func init() {
	for _, l := range strings.Fields(`en en-gb es fr it de da-DK de-DE en-AU en-CA en-GB en-IN en-US
		ca-ES es-ES es-MX fi-FI fr-CA fr-FR it-IT ja-JP ko-KR nb-NO nl-NL pl-PL pt-BR pt-PT ru-RU
		sv-SE zh-CN zh-HK zh-TW`) {
		sayLanguages[l] = true
	}
}

// maxDocuments bounds the TwiML documents one call fetches.
const maxDocuments = 8

// play runs a call: fetch the TwiML at the call's URL and follow it.
func (s *Server) play(c Call) Transcript {
	tr := Transcript{CallSID: c.SID}
	params := url.Values{
		"AccountSid": {s.AccountSID}, "ApiVersion": {"2010-04-01"}, "CallSid": {c.SID},
		"CallStatus": {"in-progress"}, "Called": {c.To}, "Caller": {c.From},
		"Direction": {"outbound-api"}, "From": {c.From}, "To": {c.To},
	}
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	next := &request{method: method, url: c.URL, params: params}
	for i := 0; next != nil; i++ {
		if i == maxDocuments {
			tr.Err = errors.New("twiliotest: more than 8 TwiML documents in one call")
			break
		}
		doc, err := s.fetch(&tr, next)
		if err != nil {
			tr.Err = err
			break
		}
		next, err = s.run(&tr, doc, next.url, params)
		if err != nil {
			tr.Err = err
			break
		}
	}
	return tr
}

type request struct {
	method, url string
	params      url.Values
}

// fetch makes one signed webhook request and parses the TwiML answer.
func (s *Server) fetch(tr *Transcript, rq *request) (*node, error) {
	u, err := url.Parse(rq.url)
	if err != nil {
		return nil, errorf(11200, "HTTP retrieval failure: bad URL")
	}
	var req *http.Request
	switch rq.method {
	case http.MethodGet:
		q := rq.params.Encode()
		if u.RawQuery != "" {
			q = u.RawQuery + "&" + q
		}
		u.RawQuery = q
		req, err = http.NewRequest(http.MethodGet, u.String(), nil)
		if err == nil {
			req.Header.Set("X-Twilio-Signature", Sign(s.AuthToken, u.String(), nil))
		}
	case http.MethodPost:
		req, err = http.NewRequest(http.MethodPost, u.String(), strings.NewReader(rq.params.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			req.Header.Set("X-Twilio-Signature", Sign(s.AuthToken, u.String(), rq.params))
		}
	default:
		return nil, errorf(11200, "HTTP retrieval failure: method %q", rq.method)
	}
	if err != nil {
		return nil, errorf(11200, "HTTP retrieval failure: %v", err)
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("Accept", "*/*")
	f := Fetch{Method: rq.method, URL: u.String()}
	resp, err := s.webhook.Do(req)
	if err != nil {
		tr.Fetches = append(tr.Fetches, f)
		return nil, errorf(11200, "HTTP retrieval failure: %v", err)
	}
	defer resp.Body.Close()
	f.Status = resp.StatusCode
	tr.Fetches = append(tr.Fetches, f)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, errorf(11200, "HTTP retrieval failure: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errorf(11200, "HTTP retrieval failure: %s %s answered %d", rq.method, u.Path, resp.StatusCode)
	}
	tr.Documents = append(tr.Documents, string(body))
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || (mt != "text/xml" && mt != "application/xml") {
		return nil, errorf(12300, "Invalid Content-Type %q", resp.Header.Get("Content-Type"))
	}
	doc, err := parseTwiML(body)
	if err != nil {
		return nil, errorf(12100, "Document parse failure: %v", err)
	}
	return doc, nil
}

// run executes a document and returns the next request, if any.
func (s *Server) run(tr *Transcript, doc *node, docURL string, params url.Values) (*request, error) {
	for _, v := range doc.children {
		switch v.name {
		case "Say":
			tr.Said = append(tr.Said, Said{Text: v.text, Language: v.attrs["language"]})
		case "Pause", "Play":
		case "Hangup", "Reject":
			return nil, nil
		case "Redirect":
			target, err := resolve(docURL, strings.TrimSpace(v.text))
			if err != nil {
				return nil, err
			}
			return &request{method: methodOr(v.attrs["method"]), url: target, params: params}, nil
		case "Gather":
			for _, c := range v.children {
				if c.name == "Say" {
					tr.Said = append(tr.Said, Said{Text: c.text, Language: c.attrs["language"]})
				}
			}
			finish, set := v.attrs["finishOnKey"]
			if !set {
				finish = "#"
			}
			if s.key == "" || s.key == finish {
				continue // no digits: Twilio goes on with the next verb
			}
			tr.Pressed = s.key
			target, err := resolve(docURL, v.attrs["action"])
			if err != nil {
				return nil, err
			}
			p := url.Values{}
			for k, vs := range params {
				p[k] = vs
			}
			p.Set("Digits", s.key)
			p.Set("FinishedOnKey", "")
			return &request{method: methodOr(v.attrs["method"]), url: target, params: p}, nil
		}
	}
	return nil, nil
}

func methodOr(m string) string {
	if m == "" {
		return http.MethodPost
	}
	return m
}

// resolve makes an action or redirect URL absolute against the document's
// URL (an empty one is the document's URL itself).
func resolve(docURL, ref string) (string, error) {
	base, err := url.Parse(docURL)
	if err != nil {
		return "", errorf(11100, "Invalid URL format: %q", docURL)
	}
	if ref == "" {
		base.RawQuery = ""
		return base.String(), nil
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", errorf(11100, "Invalid URL format: %q", ref)
	}
	return base.ResolveReference(r).String(), nil
}

// node is an element of a TwiML document.
type node struct {
	name     string
	attrs    map[string]string
	text     string
	children []*node
}

// verbs are the elements the server knows, with their attributes and
// allowed children.
var verbs = map[string]struct {
	attrs    []string
	children []string
	text     bool
}{
	"Say":      {attrs: []string{"voice", "language", "loop"}, text: true},
	"Pause":    {attrs: []string{"length"}},
	"Play":     {attrs: []string{"loop", "digits"}, text: true},
	"Hangup":   {},
	"Reject":   {attrs: []string{"reason"}},
	"Redirect": {attrs: []string{"method"}, text: true},
	"Gather": {
		attrs: []string{"action", "method", "timeout", "numDigits", "finishOnKey", "input",
			"language", "hints", "speechTimeout", "actionOnEmptyResult", "partialResultCallback"},
		children: []string{"Say", "Pause", "Play"},
	},
}

// parseTwiML reads a document and checks it as Twilio would.
func parseTwiML(b []byte) (*node, error) {
	d := xml.NewDecoder(strings.NewReader(string(b)))
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				if n.name != "Response" {
					return nil, fmt.Errorf("the root element is <%s>, not <Response>", n.name)
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				if err := checkChild(parent, n); err != nil {
					return nil, err
				}
				parent.children = append(parent.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no <Response>")
	}
	return root, validate(root)
}

func checkChild(parent, n *node) error {
	if parent.name == "Response" {
		if _, ok := verbs[n.name]; !ok {
			return fmt.Errorf("unknown verb <%s>", n.name)
		}
		return nil
	}
	for _, c := range verbs[parent.name].children {
		if c == n.name {
			return nil
		}
	}
	return fmt.Errorf("<%s> may not contain <%s>", parent.name, n.name)
}

// validate checks the verbs' attributes and texts.
func validate(n *node) error {
	for _, v := range n.children {
		spec := verbs[v.name]
		for a, val := range v.attrs {
			if !containsString(spec.attrs, a) {
				return fmt.Errorf("<%s> has no attribute %q", v.name, a)
			}
			switch a {
			case "timeout", "numDigits", "length", "loop":
				if k, err := strconv.Atoi(val); err != nil || k < 0 {
					return fmt.Errorf("<%s %s=%q> is not a number", v.name, a, val)
				}
			case "method":
				if val != http.MethodGet && val != http.MethodPost {
					return fmt.Errorf("<%s method=%q> is neither GET nor POST", v.name, val)
				}
			case "finishOnKey":
				if len(val) > 1 || (val != "" && !strings.Contains("0123456789*#", val)) {
					return fmt.Errorf("<%s finishOnKey=%q> is not a key", v.name, val)
				}
			}
		}
		if v.name == "Say" {
			if strings.TrimSpace(v.text) == "" {
				return errors.New("<Say> says nothing")
			}
			if l, ok := v.attrs["language"]; ok && !sayLanguages[l] {
				return fmt.Errorf("<Say language=%q> is not a language Twilio's voices speak", l)
			}
		} else if !spec.text && strings.TrimSpace(v.text) != "" {
			return fmt.Errorf("<%s> has text", v.name)
		}
		if err := validate(v); err != nil {
			return err
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package fake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/fake"
)

// logRecorder keeps every record a logger gets.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) last() slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records[len(r.records)-1]
}

// The seed's log lines (test_gateways.py), for each way a code goes out.
func TestLogs(t *testing.T) {
	rec := &logRecorder{}
	g := fake.New(slog.New(rec))
	ctx := context.Background()
	tests := []struct {
		send func() error
		want string
	}{
		{func() error { return g.SendSMS(ctx, twofactor.Message{To: "+31101234567", Code: "012345", Site: "x"}) },
			`Fake SMS to +31101234567: "Your token is: 012345"`},
		{func() error { return g.Call(ctx, twofactor.Message{To: "+31101234567", Code: "07654321", CallID: "c"}) },
			`Fake call to +31101234567: "Your token is: 07654321"`},
		{func() error { return g.SendCode(ctx, twofactor.Message{To: "bouke@example.org", Code: "654321"}) },
			`Fake email to bouke@example.org: "Your token is: 654321"`},
		{func() error {
			return g.SendNotice(ctx, twofactor.Notice{To: "bouke@example.org", Site: "example.com", Event: twofactor.EventDeviceAdded})
		}, `Fake email to bouke@example.org: notice "device_added" for example.com`},
	}
	for _, tt := range tests {
		if err := tt.send(); err != nil {
			t.Fatal(err)
		}
		r := rec.last()
		if r.Message != tt.want || r.Level != slog.LevelInfo {
			t.Errorf("logged %s %q, want INFO %q", r.Level, r.Message, tt.want)
		}
	}
}

func TestDefaultLogger(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	g := fake.New(nil)
	if err := g.SendSMS(context.Background(), twofactor.Message{To: "+31101234567", Code: "000001"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "000001") || !strings.Contains(buf.String(), "level=INFO") {
		t.Errorf("log %q", buf.String())
	}
}

func TestWarning(t *testing.T) {
	w := fake.Warning()
	for _, s := range []string{"fake gateway", "log", "development"} {
		if !strings.Contains(w, s) {
			t.Errorf("Warning() %q does not mention %q", w, s)
		}
	}
}

func TestLastAndMessages(t *testing.T) {
	g := fake.New(slog.New(&logRecorder{}))
	ctx := context.Background()
	if _, ok := g.Last("+31101234567"); ok {
		t.Fatal("Last on an empty gateway")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(g.SendSMS(ctx, twofactor.Message{To: "+31101234567", Code: "111111", Site: "s", Language: "nl"}))
	must(g.Call(ctx, twofactor.Message{To: "+31101234567", Code: "222222", CallID: "id"}))
	must(g.SendCode(ctx, twofactor.Message{To: "a@example.org", Code: "333333"}))
	m, ok := g.Last("+31101234567")
	if !ok || m.Code != "222222" || m.CallID != "id" {
		t.Errorf("Last = %+v, %v", m, ok)
	}
	s, _ := g.LastSent("+31101234567")
	if s.Via != fake.Call {
		t.Errorf("LastSent.Via = %q", s.Via)
	}
	if s, _ := g.LastSent("a@example.org"); s.Via != fake.Email || s.Code != "333333" {
		t.Errorf("email %+v", s)
	}
	msgs := g.Messages()
	if len(msgs) != 3 || msgs[0].Code != "111111" || msgs[0].Language != "nl" {
		t.Errorf("Messages = %+v", msgs)
	}
	if sent := g.Sent(); len(sent) != 3 || sent[0].Via != fake.SMS {
		t.Errorf("Sent = %+v", sent)
	}
	must(g.SendNotice(ctx, twofactor.Notice{To: "a@example.org", Event: twofactor.EventBackupCodeUsed}))
	if n, ok := g.LastNotice("a@example.org"); !ok || n.Event != twofactor.EventBackupCodeUsed || len(g.Notices()) != 1 {
		t.Errorf("LastNotice = %+v, %v", n, ok)
	}
	g.Reset()
	if len(g.Messages()) != 0 || len(g.Notices()) != 0 {
		t.Error("Reset kept messages")
	}
}

func TestKeepsTheLastThousand(t *testing.T) {
	g := fake.New(slog.New(&logRecorder{}))
	for i := range 1005 {
		if err := g.SendSMS(context.Background(), twofactor.Message{To: "+31101234567", Code: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := g.Messages()
	if len(msgs) != 1000 || msgs[0].Code != "5" || msgs[999].Code != "1004" {
		t.Errorf("kept %d, first %q, last %q", len(msgs), msgs[0].Code, msgs[len(msgs)-1].Code)
	}
}

func TestRefusesLikeARealGateway(t *testing.T) {
	rec := &logRecorder{}
	g := fake.New(slog.New(rec))
	ctx := context.Background()
	for _, err := range []error{
		g.SendSMS(ctx, twofactor.Message{To: "0101234567", Code: "1"}),
		g.Call(ctx, twofactor.Message{To: "+31 10 123", Code: "1"}),
		g.SendCode(ctx, twofactor.Message{To: "Bob <b@example.org>", Code: "1"}),
		g.SendCode(ctx, twofactor.Message{To: "nobody", Code: "1"}),
		g.SendNotice(ctx, twofactor.Notice{To: "", Event: twofactor.EventDeviceAdded}),
	} {
		if !errors.Is(err, twofactor.ErrInvalidDestination) {
			t.Errorf("err = %v, want ErrInvalidDestination", err)
		}
	}
	if err := g.SendSMS(ctx, twofactor.Message{To: "+31101234567", Code: "12a"}); err == nil {
		t.Error("a non-digit code was accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.SendSMS(cancelled, twofactor.Message{To: "+31101234567", Code: "1"}); !errors.Is(err, twofactor.ErrGatewayUnavailable) {
		t.Errorf("cancelled: %v", err)
	}
	g.SetError(fmt.Errorf("down: %w", twofactor.ErrGatewayUnavailable))
	if err := g.SendCode(ctx, twofactor.Message{To: "a@example.org", Code: "1"}); !errors.Is(err, twofactor.ErrGatewayUnavailable) {
		t.Errorf("SetError: %v", err)
	}
	g.SetError(nil)
	if err := g.SendCode(ctx, twofactor.Message{To: "a@example.org", Code: "1"}); err != nil {
		t.Errorf("after SetError(nil): %v", err)
	}
	if len(g.Messages()) != 1 || len(rec.records) != 1 {
		t.Errorf("%d messages, %d log lines: refused sends were recorded", len(g.Messages()), len(rec.records))
	}
}

func TestConcurrent(t *testing.T) {
	g := fake.New(slog.New(&logRecorder{}))
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = g.SendSMS(context.Background(), twofactor.Message{To: fmt.Sprintf("+3110123%04d", i), Code: "1"})
			_, _ = g.Last(fmt.Sprintf("+3110123%04d", i))
			_ = g.Messages()
		}()
	}
	wg.Wait()
	if len(g.Messages()) != 50 {
		t.Errorf("%d messages", len(g.Messages()))
	}
}

package llm_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/llm"
)

// leaked reports where in text the secret, or a prefix of it of 8 bytes or
// more, appears; "" if nowhere.
func leaked(text, secret string) string {
	for l := len(secret); l >= 8; l-- {
		if i := strings.Index(text, secret[:l]); i >= 0 {
			lo := max(0, i-20)
			return text[lo:min(len(text), i+l+5)]
		}
	}
	return ""
}

// An error body that is not OpenAI's JSON error echoes the request's
// Authorization header, at every position around the 300-character cut
// of the message.
func TestErrorBodyEchoingTheKeyAcrossTheCut(t *testing.T) {
	for pad := 260; pad <= 300; pad += 4 {
		for _, echo := range []string{"Authorization: Bearer " + testKey, "api_key=" + testKey} {
			body := "upstream said: " + strings.Repeat("x", pad-15) + " " + echo + " (end)"
			f := newFakeServer(t, respond(http.StatusBadRequest, body))
			r := localRouter(t, f, 0)
			_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
			var apiErr *llm.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("pad %d: err = %v, want an *llm.APIError", pad, err)
			}
			if where := leaked(err.Error(), testKey); where != "" {
				t.Errorf("pad %d, %q: the error keeps the key or a prefix of it: ...%s...", pad, echo[:10], where)
			}
			if !strings.Contains(err.Error(), "upstream said") {
				t.Errorf("pad %d: the error lost the server's message: %v", pad, err)
			}
		}
	}
}

// A secret that is not a key (Config.Secrets) and another provider's key
// are redacted from errors too.
func TestErrorRedactsEveryKnownSecret(t *testing.T) {
	const other = "other-provider-key-77XY"
	const stepSecret = "step-env-secret-0042"
	f := newFakeServer(t, respond(http.StatusInternalServerError, "<html>"+other+" and "+stepSecret+"</html>"))
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{
			{Name: "local", BaseURL: f.URL + "/v1", APIKeyEnv: "LOCAL_KEY"},
			{Name: "other", BaseURL: "http://127.0.0.1:1/v1", APIKeyEnv: "OTHER_KEY"},
		},
		Getenv:  env(map[string]string{"LOCAL_KEY": testKey, "OTHER_KEY": other}),
		Secrets: []string{stepSecret},
		Retry:   llm.RetryPolicy{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if err == nil || strings.Contains(err.Error(), other) || strings.Contains(err.Error(), stepSecret) {
		t.Errorf("err = %v, want one without the secrets", err)
	}
}

// A model that replies with the key (a prompt injection that makes it
// repeat its request) gets it neither returned, nor cached, nor exported
// to a cassette.
func TestReplyHoldingTheKeyIsRedacted(t *testing.T) {
	reply := strings.Replace(okReply, "The answer is 18.", "My key is "+testKey+". The answer is 18.", 1)
	f := newFakeServer(t, respond(http.StatusOK, reply))
	dir := t.TempDir()
	bc, err := llm.OpenBoltCache(filepath.Join(dir, "cache.db"), llm.BoltOptions{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "local", BaseURL: f.URL + "/v1", APIKeyEnv: "LOCAL_KEY"}},
		Getenv:    env(map[string]string{"LOCAL_KEY": testKey}),
		Cache:     bc,
		CacheMode: llm.CacheReadWrite,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Content, "My key is [redacted]. The answer is 18.") {
		t.Errorf("content = %q", resp.Content)
	}
	var cassette bytes.Buffer
	if err := llm.ExportCassette(bc, &cassette, nil); err != nil {
		t.Fatal(err)
	}
	if err := bc.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(dir, "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"reply": []byte(resp.Content), "cache file": db, "cassette": cassette.Bytes()} {
		if bytes.Contains(b, []byte(testKey)) {
			t.Errorf("the %s holds the key", name)
		}
	}
}

// Config.Secrets (values a chain step took from the environment) are
// redacted from replies too, and a recording writes none to its cassette.
func TestReplyHoldingAStepSecretIsRedacted(t *testing.T) {
	const stepSecret = "step-env-secret-0042"
	reply := strings.Replace(okReply, "The answer is 18.", "I saw "+stepSecret+". The answer is 18.", 1)
	f := newFakeServer(t, respond(http.StatusOK, reply))
	bc, err := llm.OpenBoltCache(filepath.Join(t.TempDir(), "cache.db"), llm.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	rec := &llm.RecordingCache{Inner: bc}
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "local", BaseURL: f.URL + "/v1"}},
		Getenv:    env(nil),
		Secrets:   []string{stepSecret},
		Cache:     rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if err != nil {
		t.Fatal(err)
	}
	var cassette bytes.Buffer
	if err := rec.ExportCassette(bc, &cassette); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(resp.Content, stepSecret) || strings.Contains(cassette.String(), stepSecret) || !strings.Contains(cassette.String(), "I saw [redacted].") {
		t.Errorf("content %q, cassette:\n%s", resp.Content, cassette.String())
	}
}

// An entry stored before its secret was known to be one (by an older
// version, or under another key) is redacted when a recording passes it
// on and when it writes the cassette.
func TestRecordingRedactsEntriesStoredEarlier(t *testing.T) {
	ctx := context.Background()
	const secret = "sk-known-later-55667788"
	dir := t.TempDir()
	bc, err := llm.OpenBoltCache(filepath.Join(dir, "cache.db"), llm.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	req := llm.Request{Model: "local/tiny", Messages: userMsg}
	key := llm.CacheKey(req)
	if err := llm.PutWithModel(ctx, bc, key, "local/tiny", llm.Response{Content: "the key is " + secret, Choices: []string{secret, "b"}}); err != nil {
		t.Fatal(err)
	}
	rec := &llm.RecordingCache{Inner: bc}
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "local", BaseURL: "http://127.0.0.1:1/v1", APIKeyEnv: "LOCAL_KEY"}},
		Getenv:    env(map[string]string{"LOCAL_KEY": secret}),
		Cache:     rec,
		CacheMode: llm.CacheReadWrite,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "the key is [redacted]" || strings.Contains(strings.Join(resp.Choices, " "), secret) {
		t.Errorf("hit = %+v, want the secret redacted", resp)
	}
	var cassette bytes.Buffer
	if err := rec.ExportCassette(bc, &cassette); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cassette.String(), secret) || !strings.Contains(cassette.String(), "the key is [redacted]") {
		t.Errorf("cassette:\n%s", cassette.String())
	}

	// A recording told of a secret by AddSecrets, with no Router.
	rec2 := &llm.RecordingCache{Inner: bc}
	rec2.AddSecrets(secret)
	got, ok, err := rec2.Get(ctx, key)
	if err != nil || !ok || strings.Contains(got.Content, secret) {
		t.Errorf("Get = %+v, %v, %v", got, ok, err)
	}
}

// The credentials written in a base_url are known secrets: a server that
// quotes them back, in any form, does not get them stored.
func TestBaseURLCredentialsAreKnownSecrets(t *testing.T) {
	const pass = "pw-secret-44556677"
	f := newFakeServer(t, respond(http.StatusBadRequest, "<p>you sent the password "+pass+"</p>"))
	u := strings.Replace(f.URL, "http://", "http://bob:"+pass+"@", 1)
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "local", BaseURL: u + "/v1"}},
		Getenv:    env(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if err == nil || strings.Contains(err.Error(), pass) || !strings.Contains(err.Error(), "you sent the password [redacted]") {
		t.Errorf("err = %v", err)
	}
}

// Credentials in a base_url stay out of errors about it.
func TestBaseURLCredentialsStayOutOfErrors(t *testing.T) {
	_, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "bad", BaseURL: "http://bob:hunter2pass@exa mple.com/v1?api-key=qwertyuiop"}},
		Getenv:    env(nil),
	})
	if err == nil {
		t.Fatal("no error for a bad base_url")
	}
	for _, s := range []string{"hunter2pass", "qwertyuiop"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds %q", err, s)
		}
	}
}

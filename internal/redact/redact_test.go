package redact

import (
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

const canary = "sk-SECRET-CANARY-1234567890abcdef"

func TestSecretsString(t *testing.T) {
	s := New(canary, "short", "ab", "", "  padded-value  ")
	tests := []struct {
		name, in, want string
	}{
		{"whole", "key=" + canary + " end", "key=" + Mark + " end"},
		{"twice", canary + canary, Mark},
		{"trailing prefix", "echo: Bearer " + canary[:12], "echo: Bearer " + Mark},
		{"prefix too short", "tail sk-SECR", "tail sk-SECR"},
		{"prefix of MinPrefix", "tail sk-SECRE", "tail " + Mark},
		{"prefix inside is kept", canary[:12] + " middle", canary[:12] + " middle"},
		{"short secret", "a short one", "a " + Mark + " one"},
		{"below MinSecret", "ab cd", "ab cd"},
		{"trimmed value", "got padded-value!", "got " + Mark + "!"},
		{"nothing", "plain", "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	var none *Secrets
	if got := none.String(canary); got != canary {
		t.Errorf("nil set changed the text: %q", got)
	}
}

func TestSecretsTruncate(t *testing.T) {
	s := New(canary)
	// The secret straddles the cut at every position: neither it nor a
	// prefix of MinPrefix bytes may be left.
	for pad := 0; pad < 60; pad++ {
		in := strings.Repeat("x", pad) + canary + strings.Repeat("y", 40)
		got := s.Truncate(in, 50, "...")
		body := strings.TrimSuffix(got, "...")
		if strings.Contains(got, canary[:MinPrefix]) {
			t.Errorf("pad %d: %q keeps a prefix of the secret", pad, got)
		}
		if utf8.RuneCountInString(body) > 50+len(Mark) {
			t.Errorf("pad %d: %q is too long", pad, got)
		}
	}
	if got := s.Truncate("short", 50, "..."); got != "short" {
		t.Errorf("Truncate of a short text = %q", got)
	}
	if got := Truncate("héllo wörld", 4, "…"); got != "héll…" {
		t.Errorf("Truncate = %q", got)
	}
}

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:pass@example.com/v1", "https://" + Mark + "@example.com/v1"},
		{"https://example.com/v1?api-key=abc123&x=1", "https://example.com/v1?api-key=" + Mark + "&x=1"},
		{"https://example.com/v1?api_key=abc&access_token=t&signature=s&key=k&sig=g&password=p&secret=q&token=z",
			"https://example.com/v1?access_token=" + Mark + "&api_key=" + Mark + "&key=" + Mark + "&password=" + Mark + "&secret=" + Mark + "&sig=" + Mark + "&signature=" + Mark + "&token=" + Mark},
		{"http://localhost:8080/v1", "http://localhost:8080/v1"},
		{"not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURLSecrets(t *testing.T) {
	got := URLSecrets("https://bob:pw-1234@h/v1?api-key=k-5678&region=eu")
	sort.Strings(got)
	if strings.Join(got, ",") != "k-5678,pw-1234" {
		t.Errorf("URLSecrets = %v", got)
	}
	if got := URLSecrets("https://tok-9999@h/"); len(got) != 1 || got[0] != "tok-9999" {
		t.Errorf("URLSecrets of a token user = %v", got)
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Authorization: Bearer sk-abc123456789", "Authorization: Bearer " + Mark},
		{"missing bearer token", "missing bearer token"},
		{"POST https://bob:hunter2@api.example.com/v1?api-key=zzz&model=m failed",
			"POST https://" + Mark + "@api.example.com/v1?api-key=" + Mark + "&model=m failed"},
		{"max_tokens=100&temperature=0", "max_tokens=100&temperature=0"},
		{"GET http://h/x?token=abc123: refused", "GET http://h/x?token=" + Mark + ": refused"},
		{"GET http://h/x?token=" + Mark + ": refused", "GET http://h/x?token=" + Mark + ": refused"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "api_key": true, "X-Api-Key": true, "client_secret": true,
		"x-auth-token": true, "model": false, "temperature": false,
	} {
		if got := IsSecretName(name); got != want {
			t.Errorf("IsSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

// FuzzSecrets checks the redactor's promise on any text and secret: after
// Text (redact, then truncate), the secret is not in the result, nor is a
// prefix of it of MinPrefix bytes at the end of what was kept.
func FuzzSecrets(f *testing.F) {
	f.Add("error: Authorization: Bearer sk-SECRET-CANARY-123 echoed", "sk-SECRET-CANARY-123", 40)
	f.Add("xxxxxxxxxxsk-SECRET-CANARY-123", "sk-SECRET-CANARY-123", 18)
	f.Add("aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaa", 13)
	f.Add("abcabcabcabcabc", "cabcab", 7)
	f.Add("héllo wörld sëcret-välue", "sëcret-välue", 16)
	f.Fuzz(func(t *testing.T, text, secret string, n int) {
		if n < 0 || n > 1000 || strings.ContainsAny(secret, "[]") || !utf8.ValidString(secret) {
			// A secret holding the mark's brackets could be rebuilt by
			// the mark itself; such values are not credentials.
			return
		}
		s := New(secret)
		secret = strings.TrimSpace(secret)
		whole := s.String(text)
		if len(secret) >= MinSecret && strings.Contains(whole, secret) {
			t.Fatalf("String(%q) = %q keeps the secret %q", text, whole, secret)
		}
		got := s.Text(text, n, "…")
		if len(secret) >= MinSecret && strings.Contains(got, secret) {
			t.Fatalf("Text(%q, %d) = %q keeps the secret %q", text, n, got, secret)
		}
		cutShort := utf8.RuneCountInString(s.String(Text(text))) > n
		kept := strings.TrimSuffix(got, "…")
		if cutShort && len(secret) > MinPrefix {
			for l := MinPrefix; l < len(secret); l++ {
				if strings.HasSuffix(kept, secret[:l]) {
					t.Fatalf("Text(%q, %d) = %q ends with %q, a prefix of the secret", text, n, got, secret[:l])
				}
			}
		}
	})
}

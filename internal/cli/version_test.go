package cli

import (
	"context"
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	for _, tt := range []struct {
		version, commit, want string
	}{
		{"v0.0.0-test", "", "gavel version v0.0.0-test\n"},
		{"v1.2.3", "abc1234", "gavel version v1.2.3 (abc1234)\n"},
		{"", "", "gavel version (devel)\n"},
		{"b16fe4b", "b16fe4b", "gavel version b16fe4b\n"},
		{"b16fe4b-dirty", "b16fe4b", "gavel version b16fe4b-dirty\n"},
	} {
		env, stdout, stderr := testEnv()
		env.Version, env.Commit = tt.version, tt.commit
		if code := Main(context.Background(), []string{"--version"}, env); code != ExitOK {
			t.Fatalf("gavel --version: exit %d: %s", code, stderr)
		}
		if got := stdout.String(); got != tt.want {
			t.Errorf("gavel --version printed %q, want %q", got, tt.want)
		}
	}
}

func TestCompletionUnknownShell(t *testing.T) {
	env, stdout, stderr := testEnv()
	if code := Main(context.Background(), []string{"completion", "badshell"}, env); code != ExitError {
		t.Fatalf("completion badshell: exit %d, want %d (stdout %q)", code, ExitError, stdout)
	}
	for _, want := range []string{`unknown shell "badshell"`, "bash", "zsh", "fish", "powershell"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	// Every shell cobra knows still works, and no shell prints the help.
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		env, stdout, stderr := testEnv()
		if code := Main(context.Background(), []string{"completion", sh}, env); code != ExitOK || stdout.Len() == 0 {
			t.Errorf("completion %s: exit %d, %d bytes: %s", sh, code, stdout.Len(), stderr)
		}
	}
	env, stdout, _ = testEnv()
	if code := Main(context.Background(), []string{"completion"}, env); code != ExitOK || !strings.Contains(stdout.String(), "Available Commands") {
		t.Errorf("completion without a shell: exit %d, %q", code, stdout)
	}
}

package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestViewServesUntilInterrupted(t *testing.T) {
	run := arithmeticRun(t, "--limit", "3")
	env, _, stderr := testEnv()
	pr, pw := io.Pipe()
	env.Stdout = pw
	drain := make(chan struct{})
	env.Drain = drain
	done := make(chan int, 1)
	go func() {
		done <- Main(context.Background(), []string{"view", filepath.Dir(run), "--port", "0"}, env)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var url string
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "http://") {
			url = lines.Text()
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("printed URL %q: want one on 127.0.0.1 (stderr: %s)", url, stderr)
	}
	resp, err := http.Get(url + "api/runs")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"key":"0/run"`) {
		t.Errorf("GET api/runs = %d %s", resp.StatusCode, body)
	}
	close(drain)
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d after an interrupt, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("view did not stop on interrupt")
	}
}

func TestViewUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"view", filepath.Join(t.TempDir(), "missing")}, "no such file"},
		{[]string{"view", t.TempDir(), "--addr", "127.0.0.1:0", "--port", "9"}, "give one"},
		{[]string{"view", t.TempDir(), "--addr", "nonsense"}, "--addr"},
	} {
		env, _, stderr := testEnv()
		if code := Main(context.Background(), tc.args, env); code != ExitError {
			t.Errorf("%v: exit %d, want %d", tc.args, code, ExitError)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: stderr %q, want %q", tc.args, stderr, tc.want)
		}
	}
}

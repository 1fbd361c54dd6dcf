package cli

import (
	"bufio"
	"context"
	"io"
	"net"
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

// startView runs gavel view with args and returns the URL it printed and
// a function stopping it that returns its exit code.
func startView(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	env, _, stderr := testEnv()
	pr, pw := io.Pipe()
	env.Stdout = pw
	drain := make(chan struct{})
	env.Drain = drain
	done := make(chan int, 1)
	go func() {
		done <- Main(context.Background(), append([]string{"view"}, args...), env)
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
	if url == "" {
		t.Fatalf("view printed no URL (exit %d, stderr: %s)", <-done, stderr)
	}
	return url, func() int {
		close(drain)
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("view did not stop on interrupt")
			return -1
		}
	}
}

func TestViewChecksTheHostHeader(t *testing.T) {
	run := arithmeticRun(t, "--limit", "3")
	url, stop := startView(t, filepath.Dir(run), "--port", "0", "--allow-host", "viewer.test", "--allow-host", "proxy.test:8443")
	_, port, err := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]int{
		"127.0.0.1:" + port:    http.StatusOK,
		"localhost:" + port:    http.StatusOK,
		"[::1]:" + port:        http.StatusOK,
		"viewer.test:" + port:  http.StatusOK,
		"proxy.test:8443":      http.StatusOK,
		"evil.example:" + port: http.StatusForbidden,
		"localhost:1":          http.StatusForbidden,
		"viewer.test:1":        http.StatusForbidden,
	} {
		req, _ := http.NewRequest(http.MethodGet, url+"api/runs", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d %s, want %d", host, resp.StatusCode, body, want)
		}
		if want == http.StatusForbidden && strings.Contains(string(body), `"key"`) {
			t.Errorf("Host %s: served the runs", host)
		}
	}
	if code := stop(); code != ExitOK {
		t.Errorf("exit %d after an interrupt, want 0", code)
	}
}

func TestViewRejectsBadAllowedHosts(t *testing.T) {
	for _, bad := range []string{"a/b", "host:0", ""} {
		env, _, stderr := testEnv()
		args := []string{"view", t.TempDir(), "--port", "0", "--allow-host", bad}
		if code := Main(context.Background(), args, env); code != ExitError {
			t.Errorf("%v: exit %d, want %d", args, code, ExitError)
		}
		if !strings.Contains(stderr.String(), "allowed host") {
			t.Errorf("%v: stderr %q", args, stderr)
		}
	}
}

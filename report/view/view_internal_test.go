package view

import (
	"net"
	"testing"
)

func TestHostAllowedOnOtherInterfaces(t *testing.T) {
	lan := &net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 8080}
	lan6 := &net.TCPAddr{IP: net.ParseIP("fd00::5"), Port: 8080}
	loop := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}
	named, err := parseAllowedHost("Viewer.LAN")
	if err != nil {
		t.Fatal(err)
	}
	withPort, err := parseAllowedHost("[fd00::9]:443")
	if err != nil {
		t.Fatal(err)
	}
	bare6, err := parseAllowedHost("FD00::7")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host  string
		local net.Addr
		allow []allowedHost
		want  bool
	}{
		{"192.168.1.5:8080", lan, nil, true},
		{"192.168.1.5:8081", lan, nil, false},
		{"192.168.1.6:8080", lan, nil, false},
		{"localhost:8080", lan, nil, false}, // reached over the network, not loopback
		{"127.0.0.1:8080", lan, nil, false},
		{"evil.example:8080", lan, nil, false},
		{"viewer.lan:8080", lan, nil, false},
		{"viewer.lan:8080", lan, []allowedHost{named}, true},
		{"VIEWER.lan:8080", lan, []allowedHost{named}, true},
		{"viewer.lan:9090", lan, []allowedHost{named}, false},
		{"viewer.lan.evil.example:8080", lan, []allowedHost{named}, false},
		{"[fd00::5]:8080", lan6, nil, true},
		{"[fd00::5]:8081", lan6, nil, false},
		{"[fd00::9]:443", lan6, []allowedHost{withPort}, true},
		{"[fd00::9]:8080", lan6, []allowedHost{withPort}, false},
		{"[fd00::7]:8080", lan6, []allowedHost{bare6}, true},
		{"[fd00::7]:8081", lan6, []allowedHost{bare6}, false},
		{"localhost:8080", loop, nil, true},
		{"[::1]:8080", loop, nil, true},
		{"localhost:8080", nil, nil, false}, // no listening address known
		{"", loop, nil, false},
	} {
		if got := hostAllowed(tc.host, tc.local, tc.allow); got != tc.want {
			t.Errorf("Host %q at %v (allow %v) = %v, want %v", tc.host, tc.local, tc.allow, got, tc.want)
		}
	}
}

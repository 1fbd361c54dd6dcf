package gotest

import (
	"testing"

	"github.com/gavel-eval/gavel/gaveltest"
)

// TestSupportBot runs testdata/gavel.yaml: each question is a subtest
// (go test -run TestSupportBot/returns runs one), replayed from
// testdata/gavel.cassette.
func TestSupportBot(t *testing.T) {
	gaveltest.Run(t, "testdata/gavel.yaml")
}

// Package gotest is an example of evaluations under go test with
// gaveltest: copy it next to your code, point testdata/gavel.yaml at your
// prompts, and run go test.
package gotest

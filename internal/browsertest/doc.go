// Package browsertest drives the HTML report and the viewer in a real
// headless Chromium: it holds tests only (and the helpers they share).
package browsertest

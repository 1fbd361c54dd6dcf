// Package releasetest checks, in tests only, what ships gavel: the
// release configuration (goreleaser check), the container image's
// Dockerfile and the static binary it builds, and the GitHub Action's
// install script against a local release server.
package releasetest

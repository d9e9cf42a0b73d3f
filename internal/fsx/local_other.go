//go:build !linux

package fsx

// Local reports false: outside Linux, file-system types are not checked, so
// no directory is known to be this machine's alone.
func Local(string) bool { return false }

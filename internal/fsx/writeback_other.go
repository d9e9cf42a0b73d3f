//go:build !linux

package fsx

// StartWriteback does nothing here: it is for Linux file systems that
// flush a rename's source before the rename returns (writeback_linux.go).
func StartWriteback(path string) error { return nil }

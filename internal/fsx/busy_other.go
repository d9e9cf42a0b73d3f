//go:build !windows

package fsx

// busy reports false: outside Windows, an open handle never keeps a file
// from being removed, renamed or opened.
func busy(error) bool { return false }

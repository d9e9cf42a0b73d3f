//go:build !linux

package fsprobe

// mountOf knows nothing of mounts on this OS.
func mountOf(string) (mount, fstype, source string) { return "", "", "" }

//go:build !windows

package reexec

// startPasses reports false: a failed start of a process here does not
// pass by itself (start_windows.go).
func startPasses(error) bool { return false }

//go:build !windows

package fsx

// Wine reports false: Wine runs Windows programs only.
func Wine() bool { return false }

//go:build !unix

package fsx

func isStale(error) bool { return false }

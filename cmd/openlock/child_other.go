//go:build !linux

package main

import "syscall"

// childAttr sets nothing: only Linux can tie the command's life to
// openlock's.
func childAttr() *syscall.SysProcAttr { return nil }

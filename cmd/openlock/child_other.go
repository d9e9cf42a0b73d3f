//go:build !linux && !windows

package main

import (
	"os"
	"syscall"
)

// childAttr sets nothing: this OS gives no way to tie the command's life
// to openlock's.
func childAttr() *syscall.SysProcAttr { return nil }

// adopt does nothing here (childAttr says why).
func adopt(*os.Process) error { return nil }

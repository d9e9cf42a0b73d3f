package openlock

import "syscall"

func setHostname(h string) error { return syscall.Sethostname([]byte(h)) }

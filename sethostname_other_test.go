//go:build !linux

package openlock

import "errors"

func setHostname(string) error { return errors.New("sethostname: only on Linux") }

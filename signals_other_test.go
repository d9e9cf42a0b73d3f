//go:build !unix

package openlock

import "os"

var stopSignal, contSignal os.Signal = os.Kill, os.Kill

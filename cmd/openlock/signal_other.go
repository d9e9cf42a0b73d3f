//go:build !unix

package main

import "os"

// forwarded are the signals "run" catches: while waiting, an interrupt ends
// the wait; while the command runs, openlock outlives an interrupt so that
// the lock is released after the command exits.
var forwarded = []os.Signal{os.Interrupt}

// forward does nothing: the console delivers an interrupt to the command
// itself, and other signals cannot be sent here.
func forward(*os.Process, os.Signal) {}

// signalStatus is the exit status of openlock after an interrupt.
func signalStatus(os.Signal) int { return 130 }

// exitStatus is the exit status of a finished command.
func exitStatus(ps *os.ProcessState) int { return ps.ExitCode() }

// signalable returns nil: there are no signals here to check permission
// with.
func signalable(int) error { return nil }

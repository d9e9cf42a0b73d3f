//go:build !linux && !windows

package main

const pdeathsig = false

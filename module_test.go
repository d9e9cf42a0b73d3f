package openlock

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// go.mod asks for a Go release (go 1.26), not a patch release, which would
// force every user's toolchain up to it; so does the benchmarks' module.
func TestGoDirective(t *testing.T) {
	for _, mod := range []string{"go.mod", "benchmarks/go.mod"} {
		b, err := os.ReadFile(mod)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b); m != nil {
			got = string(m[1])
		}
		if !regexp.MustCompile(`^1\.\d+$`).MatchString(got) {
			t.Errorf("%s: go directive %q; want a release such as 1.26, without a patch number", mod, got)
		}
	}
}

// The module carries its license, BSD-3-Clause, so that it can be adopted.
func TestLicense(t *testing.T) {
	b, err := os.ReadFile("LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"Copyright 2026 The openlock Authors.",
		"Redistributions of source code must retain",
		"Redistributions in binary form must reproduce",
		"Neither the name of the copyright holder nor the names of its\ncontributors may be used to endorse",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("LICENSE lacks %q: not the BSD-3-Clause text", want)
		}
	}
}

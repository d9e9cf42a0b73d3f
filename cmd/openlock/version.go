package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

var versionCommand = &command{
	name:     "version",
	synopsis: "",
	summary:  "print the version of openlock and of Go",
	help:     "Version prints the module version openlock was built from (with the VCS revision when known), the Go version and the platform.",
	examples: "  openlock version",
	main: func(c *cli, f *flagSet, args []string) int {
		if _, _, code, ok := f.parse(c, args); !ok {
			return code
		}
		fmt.Fprintf(c.stdout, "openlock %s (%s, %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	},
}

// version is the module version from the build information: a release
// ("v1.2.0") when installed with go install ...@version, else "(devel)",
// with the VCS revision when the build recorded it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + modified
	}
	return v
}

package fsx

import (
	"sync"

	"golang.org/x/sys/windows"
)

// Wine reports whether this program runs under Wine (its ntdll exports
// wine_get_version; Windows' does not), for tests to skip what Wine does
// not do as Windows does, naming the gap.
var Wine = sync.OnceValue(func() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
})

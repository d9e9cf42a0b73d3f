package fsprobe

import "testing"

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/a\040b`: "/mnt/a b", `/plain`: "/plain", `/x\134y`: `/x\y`, `/bad\04`: `/bad\04`,
	} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
	if mount, fstype, _ := mountOf("/proc/self"); mount != "/proc" || fstype != "proc" {
		t.Errorf("mountOf(/proc/self) = %q, %q; want /proc, proc", mount, fstype)
	}
}

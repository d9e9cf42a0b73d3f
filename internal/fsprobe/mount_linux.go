package fsprobe

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// mountOf finds the mount that holds dir in /proc/self/mountinfo: the one
// with the longest mount point that is a prefix of dir's real path.
func mountOf(dir string) (mount, fstype, source string) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", "", ""
	}
	if real, err = filepath.Abs(real); err != nil {
		return "", "", ""
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// 36 35 98:0 /root /mnt/point rw,noatime master:1 - ext4 /dev/sda1 rw
		pre, post, ok := strings.Cut(s.Text(), " - ")
		fields, after := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(after) < 2 {
			continue
		}
		mp := unescape(fields[4])
		if within(real, mp) && len(mp) >= len(mount) { // later mounts hide earlier ones
			mount, fstype, source = mp, after[0], unescape(after[1])
		}
	}
	return mount, fstype, source
}

func within(path, mount string) bool {
	return mount == "/" || path == mount || strings.HasPrefix(path, mount+"/")
}

// unescape decodes the octal escapes (\040 for a space) of mountinfo.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

package bench

import (
	"testing"
	"time"
)

func TestUncontendedShared(t *testing.T) {
	for _, lib := range []string{Openlock, Flock} {
		if d, err := UncontendedShared(lib, t.TempDir(), 20); err != nil || d <= 0 {
			t.Errorf("%s: %v, %v", lib, d, err)
		}
	}
}

func TestReaders(t *testing.T) {
	for _, lib := range []string{Openlock, Flock} {
		rate, err := Readers(ReadersConfig{Lib: lib, Dir: t.TempDir(), Procs: 3, For: 100 * time.Millisecond, Timeout: time.Minute})
		if err != nil || rate <= 0 {
			t.Errorf("%s: %v/s, %v", lib, rate, err)
		}
	}
}

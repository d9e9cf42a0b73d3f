package fileformat

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var full = Record{
	PID: 4242, Name: "worker", Version: 1,
	Host: "build-7", Machine: "3d1219c7c4c5404aaa1f6d2a48adfda4", Boot: "5f54653d-21a5-4842-8f7f-a6c14434e02e",
	Start: "1234567", PIDNS: "pid:[4026531836]", Nonce: "0123456789abcdef0123456789abcdef",
}

const fullText = "4242\nworker\nopenlock=1\nhost=build-7\nmachine=3d1219c7c4c5404aaa1f6d2a48adfda4\nboot=5f54653d-21a5-4842-8f7f-a6c14434e02e\n" +
	"start=1234567\npidns=pid:[4026531836]\nnonce=0123456789abcdef0123456789abcdef\n"

func TestMarshalCanonical(t *testing.T) {
	b, err := Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != fullText {
		t.Errorf("Marshal =\n%q\nwant\n%q", b, fullText)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Record
	}{
		{"full", fullText, full},
		{"seed", "17\nworker\n", Record{PID: 17, Name: "worker"}},
		{"seed with spaces in name", "17\nmy worker\n", Record{PID: 17, Name: "my worker"}},
		{"max 32-bit pid", "4294967295\nsvc\n", Record{PID: 4294967295, Name: "svc"}},
		{"unknown keys kept in order", "1\nn\nopenlock=1\nzeta=1\nfence=3\nnonce=ab\n",
			Record{PID: 1, Name: "n", Version: 1, Nonce: "ab", Extra: []string{"zeta=1", "fence=3"}}},
		{"lease", "1\nn\nopenlock=1\nlease=30s\nnonce=ab\n", Record{PID: 1, Name: "n", Version: 1, Lease: "30s", Nonce: "ab"}},
		{"empty value of a known key", "1\nn\nopenlock=1\nhost=\n", Record{PID: 1, Name: "n", Version: 1}},
		{"future version", "1\nn\nopenlock=7\n", Record{PID: 1, Name: "n", Version: 7}},
		{"value with = inside", "1\nn\nopenlock=1\nhost=a=b\n", Record{PID: 1, Name: "n", Version: 1, Host: "a=b"}},
		{"seed: argv[0] a path with spaces (seed before 1.1)", "8021\n/home/u/my work/worker.py\n",
			Record{PID: 8021, Name: "/home/u/my work/worker.py"}},
		{"seed: Windows argv[0]", "8021\nC:\\fishtest\\worker.py\n", Record{PID: 8021, Name: `C:\fishtest\worker.py`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"only newline", "\n"},
		{"one line", "17\n"},
		{"no final newline", "17\nworker"},
		{"torn inside a key line", "17\nworker\nopenlock=1\nnonce=ab"},
		{"pid zero", "0\nworker\n"},
		{"negative pid", "-3\nworker\n"},
		{"signed pid", "+3\nworker\n"},
		{"leading zero", "03\nworker\n"},
		{"pid with space", " 3\nworker\n"},
		{"pid too large", "4294967296\nworker\n"},
		{"pid not a number", "abc\nworker\n"},
		{"empty name", "3\n\n"},
		{"name with tab", "3\nwor\tker\n"},
		{"name with CR", "3\nworker\r\n"},
		{"name invalid utf8", "3\nwor\xffker\n"},
		{"duplicate key", "3\nw\nopenlock=1\nhost=a\nhost=b\n"},
		{"duplicate version", "3\nw\nopenlock=1\nopenlock=1\n"},
		{"bad version", "3\nw\nopenlock=x\n"},
		{"zero version", "3\nw\nopenlock=0\n"},
		{"non-canonical version", "3\nw\nopenlock=01\n"},
		{"control char in value", "3\nw\nopenlock=1\nhost=a\x01b\n"},
		{"control char in an unknown key's value", "3\nw\nopenlock=1\nzeta=a\x01b\n"},
		{"too large", "3\nw\n" + strings.Repeat("x", MaxSize) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.in))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) = %+v, %v; want an error wrapping ErrInvalid", tt.in, r, err)
			}
		})
	}
}

// TestParseRefusesUserData: a lock path may name a user's file, and a file
// Parse accepts may be taken over and deleted. The seed's record is exactly
// two lines and ours has "openlock=N" third; files that only resemble them
// are not records, whatever their first two lines hold.
func TestParseRefusesUserData(t *testing.T) {
	tests := []struct{ name, in string }{
		{"report with a year and a title", "2024\nQuarterly report\nrevenue 10\ncosts 5\n"},
		{"pid and name of a live process, then more", "1\nsystemd\nextra\n"},
		{"three lines, the third key=value", "1\nsystemd\nhost=x\n"},
		{"seed lines then a blank line", "17\nworker\n\n"},
		{"version not third", "17\nworker\nhost=a\nopenlock=1\n"},
		{"our record then prose", "17\nworker\nopenlock=1\nnonce=ab\nsome notes here\n"},
		{"our record then a blank line", "17\nworker\nopenlock=1\n\n"},
		{"key with a space", "17\nworker\nopenlock=1\ntotal cost=5\n"},
		{"upper-case key", "17\nworker\nopenlock=1\nHost=a\n"},
		{"empty key", "17\nworker\nopenlock=1\n=a\n"},
		{"CRLF seed record", "17\nworker\n"},
		{"CRLF after the version", "17\nworker\nopenlock=1\n"},
		{"byte order mark", "\ufeff17\nworker\n"},
		{"JSON", `{"pid": 17, "name": "worker"}` + "\n"},
		{"JSON after a pid", "17\n{\"name\": \"worker\"}\nnonce=ab\n"},
		{"CSV", "1,2,3\n4,5,6\n"},
		{"number list", "1\n2\n3\n"},
		{"one number", "42\n"},
		{"binary", "17\nw\x00rker\n"},
		{"no final newline", "2024\nQuarterly report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := Parse([]byte(tt.in)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) = %+v, %v; want an error wrapping ErrInvalid", tt.in, r, err)
			}
		})
	}
}

func TestMarshalRejectsUnencodable(t *testing.T) {
	tests := []struct {
		name string
		r    Record
	}{
		{"zero pid", Record{Name: "n"}},
		{"empty name", Record{PID: 1}},
		{"newline in name", Record{PID: 1, Name: "a\nb"}},
		{"newline in host", Record{PID: 1, Name: "n", Host: "a\nb"}},
		{"extra shadows a known key", Record{PID: 1, Name: "n", Extra: []string{"host=x"}}},
		{"extra with newline", Record{PID: 1, Name: "n", Extra: []string{"a\nb"}}},
		{"extra not key=value", Record{PID: 1, Name: "n", Version: 1, Extra: []string{"x"}}},
		{"seed record with more lines", Record{PID: 1, Name: "n", Extra: []string{"x=1"}}},
		{"seed record with a host", Record{PID: 1, Name: "n", Host: "h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := Marshal(tt.r); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Marshal(%+v) = %q, %v; want an error wrapping ErrInvalid", tt.r, b, err)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, r := range []Record{
		full,
		{PID: 1, Name: "seed"},
		{PID: 99, Name: "ünïcode name", Version: 1, Lease: "10s", Nonce: "ff", Extra: []string{"fence=1", "x-y_2="}},
	} {
		b, err := Marshal(r)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", r, err)
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(%+v)): %v", r, err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Errorf("round trip mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestSeedReaderSeesPIDAndName(t *testing.T) {
	// The seed reads the first two lines and nothing else.
	b, err := Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 3)
	if lines[0] != "4242" || lines[1] != "worker" {
		t.Errorf("first two lines = %q, %q; want 4242, worker", lines[0], lines[1])
	}
}

func TestCompleteAndSeed(t *testing.T) {
	if !full.Complete() || full.Seed() {
		t.Errorf("full record: Complete=%v Seed=%v", full.Complete(), full.Seed())
	}
	seed := Record{PID: 1, Name: "n"}
	if seed.Complete() || !seed.Seed() {
		t.Errorf("seed record: Complete=%v Seed=%v", seed.Complete(), seed.Seed())
	}
	noNonce := full
	noNonce.Nonce = ""
	if noNonce.Complete() {
		t.Error("record without a nonce reports Complete")
	}
}

func TestSanitizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/bin/worker", "worker"},
		{`C:\bin\worker.exe`, "worker.exe"},
		{"plain", "plain"},
		{"", "?"},
		{"/", "?"},
		{"bad\nname", "bad?name"},
		{"bad\xffname", "bad?name"},
		{strings.Repeat("é", 200), strings.Repeat("é", 127)},
	}
	for _, tt := range tests {
		got := SanitizeName(tt.in)
		if got != tt.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if _, err := Marshal(Record{PID: 1, Name: got}); err != nil {
			t.Errorf("SanitizeName(%q) = %q does not marshal: %v", tt.in, got, err)
		}
	}
}

// FuzzParse checks that Parse never panics, and that whatever it accepts
// survives Marshal and Parse again unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{fullText, "17\nworker\n", "1\nn\nx\nhost=a\n", "", "\n\n", "3\nw\nopenlock=1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		out, err := Marshal(r)
		if err != nil {
			t.Fatalf("Parse accepted %q as %+v but Marshal fails: %v", b, r, err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(%q))) fails: %v", b, err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Fatalf("round trip of %q changed the record (-want +got):\n%s", b, diff)
		}
	})
}

// Package fileformat reads and writes the record an openlock lock file holds.
//
// A record names the process that holds a lock (or a claim, or owns a token):
//
//	<pid>\n
//	<name>\n
//	openlock=1\n
//	host=<hostname>\n
//	machine=<machine id>\n
//	boot=<boot id>\n
//	start=<process start time, as the OS counts it>\n
//	pidns=<PID namespace>\n
//	lease=<duration>\n       (only when the holder refreshes a lease)
//	nonce=<32 hex digits>\n
//
// The first two lines are the whole record of the Python openlock library (the
// "seed" format: exactly "<pid>\n<name>\n", name being the holder's argv[0]
// or its stem), so a seed reader still sees the holder's PID and name. A
// record of this package has "openlock=<version>" as its third line; the
// lines after it are key=value pairs, and unknown keys are kept verbatim so
// that a newer writer's record survives a round trip through an older reader.
//
// Nothing else is a record. A lock path may name a user's file, and a file
// that is taken for a record may be taken over and deleted: so a third line
// that is not "openlock=<version>", or a line after it that is not
// key=value, makes the whole file invalid, however record-like its first
// two lines are. Parse is strict, rejects records over [MaxSize] bytes and
// never panics. Every line, the last included, ends in a newline: a record
// cut short by a torn write does not parse.
package fileformat

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxSize is the largest record Parse accepts, in bytes. A lock file larger
// than this is not a lock file, whatever it holds.
const MaxSize = 4096

// Version is the record version this package writes (the value of "openlock=").
const Version = 1

// ErrInvalid is wrapped by every error Parse and Marshal return.
var ErrInvalid = errors.New("invalid lock record")

// Record is the parsed content of a lock file, claim or token.
//
// A record with Version 0 is in the seed format: it has only PID and Name
// (and perhaps lines this package does not know, kept in Extra).
type Record struct {
	PID     int    // the holder's process ID, as its own PID namespace sees it
	Name    string // base name of the holder's argv[0] (a seed record: its argv[0] or the stem of that)
	Version int    // value of "openlock="; 0 for a seed-format record
	Host    string // hostname of the holder ("host=")
	Machine string // machine id of the holder's OS installation ("machine=")
	Boot    string // boot id of the holder's machine ("boot=")
	Start   string // holder's start time in the OS's own exact unit ("start=")
	PIDNS   string // holder's PID namespace ("pidns="), Linux only
	Lease   string // the holder's lease, a Go duration ("lease="); "" when none
	Nonce   string // random, unique to the token that wrote the record ("nonce=")
	// Extra holds the lines after the second that this package does not
	// interpret, verbatim and in order, without their newlines.
	Extra []string
}

// known lists the keys Record interprets, in the order Marshal writes them.
// "nonce" comes last: a reader that sees a nonce has seen the whole record.
var known = []string{"openlock", "host", "machine", "boot", "start", "pidns", "lease", "nonce"}

// field returns a pointer to the string field for key k, or nil for
// "openlock", which is numeric, and for unknown keys.
func (r *Record) field(k string) *string {
	switch k {
	case "host":
		return &r.Host
	case "machine":
		return &r.Machine
	case "boot":
		return &r.Boot
	case "start":
		return &r.Start
	case "pidns":
		return &r.PIDNS
	case "lease":
		return &r.Lease
	case "nonce":
		return &r.Nonce
	}
	return nil
}

// Seed reports whether r is a seed-format record (no "openlock=" line).
func (r Record) Seed() bool { return r.Version == 0 }

// Complete reports whether r was written whole by an openlock writer: it has
// a version and a nonce. Only a complete record can prove anything about its
// owner beyond the seed's (pid, name).
func (r Record) Complete() bool { return r.Version >= 1 && r.Nonce != "" }

// checkText returns an error for content with NUL bytes, which no record
// holds: binary data, or, when every byte is NUL, a file whose blocks were
// allocated but never written, as a crash can leave one.
func checkText(b []byte) error {
	i := bytes.IndexByte(b, 0)
	switch {
	case i < 0:
		return nil
	case len(bytes.Trim(b, "\x00")) == 0:
		return fmt.Errorf("%w: all %d bytes are NUL: a file whose data was never written "+
			"(a crash can leave one so), or binary data", ErrInvalid, len(b))
	}
	return fmt.Errorf("%w: a NUL byte at offset %d: binary data", ErrInvalid, i)
}

// Parse parses a record. It returns an error wrapping [ErrInvalid] when b is
// larger than [MaxSize], when the first line is not a positive decimal PID,
// when the second line is empty or holds control characters or invalid UTF-8,
// when there is a third line and it is not "openlock=<version>", when a later
// line is not key=value (a key of lowercase letters, digits, '-' and '_'; a
// value without control characters), when a known key appears twice or has a
// malformed value, or when any line lacks its final newline.
func Parse(b []byte) (Record, error) {
	var r Record
	if len(b) > MaxSize {
		return r, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalid, len(b), MaxSize)
	}
	if len(b) == 0 {
		return r, fmt.Errorf("%w: empty", ErrInvalid)
	}
	if err := checkText(b); err != nil {
		return r, err
	}
	if b[len(b)-1] != '\n' {
		return r, fmt.Errorf("%w: the last line has no newline, which ends every record", ErrInvalid)
	}
	lines := strings.Split(string(b[:len(b)-1]), "\n")
	if len(lines) < 2 {
		return r, fmt.Errorf("%w: fewer than two lines", ErrInvalid)
	}
	pid, err := parsePID(lines[0])
	if err != nil {
		return r, err
	}
	if err := checkName(lines[1]); err != nil {
		return r, err
	}
	r.PID, r.Name = pid, lines[1]
	if len(lines) == 2 {
		return r, nil // the seed's record
	}
	if k, _, _ := strings.Cut(lines[2], "="); k != "openlock" {
		return Record{}, fmt.Errorf("%w: third line %q is not openlock=<version> "+
			"(the seed's record has two lines only)", ErrInvalid, clip(lines[2]))
	}
	seen := make(map[string]bool, len(known))
	for i, line := range lines[2:] {
		k, v, ok := strings.Cut(line, "=")
		if !ok || !validKey(k) || !printable(v) {
			return Record{}, fmt.Errorf("%w: line %d %q is not key=value", ErrInvalid, i+3, clip(line))
		}
		if !isKnown(k) {
			r.Extra = append(r.Extra, line)
			continue
		}
		if seen[k] {
			return Record{}, fmt.Errorf("%w: key %q appears twice", ErrInvalid, k)
		}
		seen[k] = true
		if err := r.set(k, v); err != nil {
			return Record{}, err
		}
	}
	return r, nil
}

// validKey reports whether k is a key a writer of this format may use: one
// or more lowercase ASCII letters, digits, '-' and '_'.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isKnown(k string) bool {
	for _, kk := range known {
		if k == kk {
			return true
		}
	}
	return false
}

func (r *Record) set(k, v string) error {
	if k == "openlock" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || strconv.Itoa(n) != v {
			return fmt.Errorf("%w: openlock=%q is not a version number", ErrInvalid, v)
		}
		r.Version = n
		return nil
	}
	*r.field(k) = v
	return nil
}

// parsePID accepts the canonical decimal form of a positive PID that fits in
// 32 bits (Windows PIDs are unsigned 32-bit values).
func parsePID(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != s {
		return 0, fmt.Errorf("%w: first line %q is not a PID", ErrInvalid, clip(s))
	}
	return int(n), nil
}

func checkName(s string) error {
	if s == "" {
		return fmt.Errorf("%w: second line (name) is empty", ErrInvalid)
	}
	if !printable(s) {
		return fmt.Errorf("%w: name holds control characters or invalid UTF-8", ErrInvalid)
	}
	return nil
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// Marshal returns the canonical encoding of r: PID and name, then the known
// keys that are set, in a fixed order with nonce last, then Extra. It returns
// an error wrapping [ErrInvalid] when the result would not parse back to r.
func Marshal(r Record) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\n%s\n", r.PID, r.Name)
	if r.Version != 0 {
		fmt.Fprintf(&b, "openlock=%d\n", r.Version)
	}
	for _, k := range known[1:] {
		if v := *r.field(k); v != "" {
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
	}
	for _, line := range r.Extra {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	out := b.Bytes()
	back, err := Parse(out)
	if err != nil {
		return nil, err
	}
	if !equal(back, r) {
		return nil, fmt.Errorf("%w: record does not survive a round trip (a value holds a newline, or an extra line looks like a known key?)", ErrInvalid)
	}
	return out, nil
}

// equal compares records field by field; a nil and an empty Extra are equal.
func equal(a, b Record) bool {
	return a.PID == b.PID && a.Name == b.Name && a.Version == b.Version &&
		a.Host == b.Host && a.Machine == b.Machine && a.Boot == b.Boot && a.Start == b.Start &&
		a.PIDNS == b.PIDNS && a.Lease == b.Lease && a.Nonce == b.Nonce && slices.Equal(a.Extra, b.Extra)
}

// SanitizeName turns an arbitrary argv[0] into a valid record name: its base
// name (after the last '/' or '\'), with control characters and invalid
// UTF-8 replaced by '?', at most 255 bytes, "?" when nothing is left.
func SanitizeName(argv0 string) string {
	if i := strings.LastIndexAny(argv0, `/\`); i >= 0 {
		argv0 = argv0[i+1:]
	}
	var b strings.Builder
	for _, c := range strings.ToValidUTF8(argv0, "?") {
		if c < 0x20 || c == 0x7f {
			c = '?'
		}
		if b.Len()+utf8.RuneLen(c) > 255 {
			break
		}
		b.WriteRune(c)
	}
	if b.Len() == 0 {
		return "?"
	}
	return b.String()
}

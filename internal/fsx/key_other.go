//go:build !unix

package fsx

import (
	"fmt"
	"io/fs"
)

// key falls back to size and modification time where FileInfo carries no
// file index; the caller adds the content.
func key(fi fs.FileInfo) string {
	return fmt.Sprintf("%d:%d", fi.Size(), fi.ModTime().UnixNano())
}

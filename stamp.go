package stampfs

import (
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/afero"
)

// Strategy names how Scan computes a stamp.
type Strategy string

// The strategies Scan knows. The zero Strategy means Content.
const (
	Content Strategy = "content" // SHA-256 over every counted file (default)
	Mtime   Strategy = "mtime"   // newest mtime, in whole Unix seconds
	Git     Strategy = "git"     // the commit HEAD names, read from .git files
	Fixed   Strategy = "fixed"   // ScanOptions.Version, validated
)

// ErrBadStamp is returned (wrapped) for a string that is not a valid stamp.
var ErrBadStamp = errors.New("stampfs: bad stamp")

// ScanOptions configures Scan. A nil *ScanOptions means the zero value.
type ScanOptions struct {
	Strategy Strategy     // zero means Content
	Version  string       // the stamp for Fixed
	Hash     bool         // record every file's SHA-256 even when the strategy does not need it
	Logger   *slog.Logger // nil is silent
}

// File is one counted file of a Snapshot.
type File struct {
	Name    string    // slash-separated path relative to the scanned directory
	Size    int64     // bytes
	ModTime time.Time // as the file system reports it
	SHA256  [32]byte  // zero unless the strategy reads content or ScanOptions.Hash is set
}

// Snapshot is the immutable result of Scan.
type Snapshot struct {
	stamp    string
	strategy Strategy
	files    []File // sorted bytewise by Name
}

// Scan walks dir on fsys and returns its snapshot.
func Scan(fsys afero.Fs, dir string, opts *ScanOptions) (*Snapshot, error) {
	return nil, errors.ErrUnsupported // TODO(scanner)
}

// Stamp returns the snapshot's stamp.
func (s *Snapshot) Stamp() string { return s.stamp }

// Strategy returns the strategy that produced the stamp.
func (s *Snapshot) Strategy() Strategy { return s.strategy }

package stampfs

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/stampfs/stampfs/vfs"
)

// ManifestVersion is the schema version of the Manifest this package reads
// and writes.
const ManifestVersion = 1

// Manifest is the JSON document that tells programs other than the Handler
// (templates of other stacks, deploy scripts, an object store's readers)
// which stamp is current and under which URL each served file is found.
// Its JSON form, schema version 1, is
//
//	{"version":1,"stamp":"3f2a9c1b7d0e","strategy":"content","prefix":"/static/",
//	 "files":{"css/site.css":{"url":"/static/3f2a9c1b7d0e/css/site.css","size":123,
//	   "sha256":"<64 hex>","integrity":"sha384-<base64>",
//	   "type":"text/css; charset=utf-8","encodings":["br","gzip"]}}}
//
// Files holds exactly the names the Handler serves: counted files, less
// precompressed siblings (listed as encodings of their base file) and names
// holding a backslash. Each URL is Base + Prefix + stamp + "/" + the name
// escaped as a URL path, as Handler.URL gives it.
type Manifest struct {
	Version  int                     `json:"version"`
	Stamp    string                  `json:"stamp"`
	Strategy Strategy                `json:"strategy"`
	Prefix   string                  `json:"prefix"`
	Files    map[string]ManifestFile `json:"files"`
}

// ManifestFile is one served file of a Manifest.
type ManifestFile struct {
	URL       string   `json:"url"`       // Base + Prefix + stamp + "/" + escaped name
	Size      int64    `json:"size"`      // bytes of the file itself
	SHA256    string   `json:"sha256"`    // lowercase hex
	Integrity string   `json:"integrity"` // Subresource Integrity: "sha384-" + base64
	Type      string   `json:"type"`      // Content-Type as the Handler sends it
	Encodings []string `json:"encodings"` // precompressed siblings served for it: "br", "gzip"; never nil
}

// ManifestOptions configures NewManifest. A nil *ManifestOptions means the
// zero value.
type ManifestOptions struct {
	// Prefix is the URL path the files are served under, as Options.Prefix.
	// Default "/static/".
	Prefix string
	// Base is an origin put before every URL, as Options.Base.
	Base string
}

// NewManifest returns the manifest of snap, reading each served file's bytes
// from fsys (the scanned directory, or a version holding the same bytes, as
// an fs.FS rooted there) to compute its integrity value.
//
// It returns an error wrapping fs.ErrInvalid for a bad option or a name
// that JSON cannot hold (not valid UTF-8), a *fs.PathError for a file that
// cannot be read, and one wrapping the package's "changed since the scan"
// error for a file whose bytes no longer match snap.
func NewManifest(fsys fs.FS, snap *Snapshot, opts *ManifestOptions) (*Manifest, error) {
	return buildManifest(snap.Stamp(), snap.Strategy(), snap.files, opts, func(served []File) ([]string, error) {
		buf := make([]byte, 64<<10)
		sris := make([]string, len(served))
		for i, f := range served {
			var err error
			if sris[i], err = fileIntegrity(fsys, f, buf); err != nil {
				return nil, err
			}
		}
		return sris, nil
	})
}

// buildManifest returns the manifest of the counted files of stamp. Once
// the options and the names are checked, integrity gives the integrity
// values of the served files, in their order.
func buildManifest(stamp string, strategy Strategy, files []File, opts *ManifestOptions, integrity func(served []File) ([]string, error)) (*Manifest, error) {
	var o ManifestOptions
	if opts != nil {
		o = *opts
	}
	prefix, base, err := checkPrefixBase(o.Prefix, o.Base)
	if err != nil {
		return nil, err
	}
	served, encodings := servedFiles(files)
	for _, f := range served {
		if !utf8.ValidString(f.Name) {
			return nil, &fs.PathError{Op: "manifest", Path: f.Name, Err: errNotUTF8}
		}
	}
	sris, err := integrity(served)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Version: ManifestVersion, Stamp: stamp, Strategy: strategy, Prefix: prefix, Files: make(map[string]ManifestFile, len(served))}
	for i, f := range served {
		m.Files[f.Name] = ManifestFile{
			URL:       base + prefix + stamp + "/" + escapeName(f.Name),
			Size:      f.Size,
			SHA256:    hex.EncodeToString(f.SHA256[:]),
			Integrity: sris[i],
			Type:      contentType(f.Name),
			Encodings: encodings[f.Name],
		}
	}
	return m, nil
}

// ParseManifest decodes a manifest and checks it: schema version 1, a valid
// stamp, a prefix that starts and ends with "/", and valid file names, each
// with a 64-hex SHA-256. Any other document is an error wrapping
// fs.ErrInvalid.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("stampfs: manifest: %w: %w", fs.ErrInvalid, err)
	}
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("stampfs: manifest: schema version %d, want %d: %w", m.Version, ManifestVersion, fs.ErrInvalid)
	}
	if !vfs.ValidSegment(m.Stamp) {
		return nil, fmt.Errorf("stampfs: manifest: bad stamp %q: %w", m.Stamp, fs.ErrInvalid)
	}
	if !strings.HasPrefix(m.Prefix, "/") || !strings.HasSuffix(m.Prefix, "/") {
		return nil, fmt.Errorf("stampfs: manifest: prefix %q must start and end with /: %w", m.Prefix, fs.ErrInvalid)
	}
	for name, f := range m.Files {
		if !fs.ValidPath(name) || name == "." || strings.Contains(name, `\`) {
			return nil, fmt.Errorf("stampfs: manifest: bad file name %q: %w", name, fs.ErrInvalid)
		}
		if sum, err := hex.DecodeString(f.SHA256); err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("stampfs: manifest: %s: bad sha256 %q: %w", name, f.SHA256, fs.ErrInvalid)
		}
		if f.Encodings == nil {
			f.Encodings = []string{}
			m.Files[name] = f
		}
	}
	if m.Files == nil {
		m.Files = make(map[string]ManifestFile)
	}
	return &m, nil
}

// MarshalIndent returns the manifest as indented JSON with a final newline,
// without HTML escaping, as the command prints it.
func (m *Manifest) MarshalIndent() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// URL returns the URL of the served file name, and an error wrapping
// ErrUnknownAsset for a name the manifest does not list.
func (m *Manifest) URL(name string) (string, error) {
	f, ok := m.Files[strings.TrimPrefix(name, "/")]
	if !ok {
		return "", unknownAsset("url", name)
	}
	return f.URL, nil
}

// errNotUTF8 is the cause for a name that JSON cannot hold: encoding/json
// would silently turn its bytes into U+FFFD and name a file that does not
// exist.
var errNotUTF8 = fmt.Errorf("stampfs: file name is not valid UTF-8, which JSON cannot hold: %w", fs.ErrInvalid)

// checkPrefixBase validates a Prefix and a Base as Options and
// ManifestOptions take them, and returns them with defaults applied.
func checkPrefixBase(prefix, base string) (string, string, error) {
	given := prefix
	if prefix == "" {
		prefix = "/static/"
	}
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
		return "", "", fmt.Errorf("stampfs: Prefix %q must start and end with /: %w", given, fs.ErrInvalid)
	}
	if prefix != "/" && (cleanSlash(prefix) != prefix || (&url.URL{Path: prefix}).EscapedPath() != prefix) {
		return "", "", fmt.Errorf("stampfs: Prefix %q must be a clean path that needs no escaping: %w", given, fs.ErrInvalid)
	}
	b := strings.TrimSuffix(base, "/")
	if b != "" && !strings.HasPrefix(b, "https://") && !strings.HasPrefix(b, "http://") && !strings.HasPrefix(b, "//") {
		return "", "", fmt.Errorf("stampfs: Base %q must start with https://, http:// or //: %w", base, fs.ErrInvalid)
	}
	return prefix, b, nil
}

// cleanSlash returns the cleaned form of a path that ends in "/", with the
// slash kept.
func cleanSlash(p string) string {
	return strings.TrimSuffix(path.Clean(p), "/") + "/"
}

// escapeName escapes a served name as a URL path, as Handler.URL does.
func escapeName(name string) string {
	return (&url.URL{Path: name}).EscapedPath()
}

// servedFiles splits a snapshot's table into the files the Handler serves
// under their own names, in table order, and, for each base file with
// precompressed siblings, their encodings ("br" before "gzip"). A sibling
// NAME.br or NAME.gz counts only beside a counted NAME and when its bytes
// differ from NAME's; names holding a backslash are never served.
func servedFiles(files []File) (served []File, encodings map[string][]string) {
	byName := make(map[string]*File, len(files))
	for i := range files {
		byName[files[i].Name] = &files[i]
	}
	encodings = make(map[string][]string)
	sibling := func(f *File) (string, bool) {
		for _, s := range [...]struct{ ext, enc string }{{".br", "br"}, {".gz", "gzip"}} {
			if base, ok := strings.CutSuffix(f.Name, s.ext); ok {
				if b := byName[base]; b != nil && b.SHA256 != f.SHA256 && !strings.Contains(base, `\`) {
					return base, true
				}
			}
		}
		return "", false
	}
	for i := range files {
		f := &files[i]
		if strings.Contains(f.Name, `\`) {
			continue
		}
		if _, ok := sibling(f); ok {
			continue
		}
		served = append(served, *f)
		encodings[f.Name] = []string{}
		for _, s := range [...]struct{ ext, enc string }{{".br", "br"}, {".gz", "gzip"}} {
			if sib := byName[f.Name+s.ext]; sib != nil && sib.SHA256 != f.SHA256 {
				encodings[f.Name] = append(encodings[f.Name], s.enc)
			}
		}
	}
	return served, encodings
}

// fileIntegrity reads f from fsys through buf and returns its SRI value,
// checking the bytes against the SHA-256 the scan recorded.
func fileIntegrity(fsys fs.FS, f File, buf []byte) (string, error) {
	r, err := fsys.Open(f.Name)
	if err != nil {
		return "", err
	}
	defer r.Close()
	sha, sri, _, err := sums(r, buf)
	if err != nil {
		return "", &fs.PathError{Op: "read", Path: f.Name, Err: err}
	}
	if sha != f.SHA256 {
		return "", &fs.PathError{Op: "manifest", Path: f.Name, Err: errChanged}
	}
	return sri.String(), nil
}

// sri384 is an integrity value: a SHA-384.
type sri384 [48]byte

func (s sri384) String() string { return "sha384-" + base64.StdEncoding.EncodeToString(s[:]) }

// sums reads r to its end through buf (nil for io.Copy's own) and returns
// the SHA-256 and the SHA-384 of what it read, and how many bytes that was:
// the two sums a served file is known by.
func sums(r io.Reader, buf []byte) (sha [sha256.Size]byte, sri sri384, n int64, err error) {
	d256, d384 := sha256.New(), sha512.New384()
	n, err = io.CopyBuffer(io.MultiWriter(d256, d384), r, buf)
	copy(sha[:], d256.Sum(nil))
	copy(sri[:], d384.Sum(nil))
	return sha, sri, n, err
}

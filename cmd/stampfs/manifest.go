package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"

	"github.com/stampfs/stampfs"
)

// runManifest prints (or writes atomically to -o FILE) the version-1
// manifest of DIR: its stamp and, for every name the handler serves, the
// URL, size, SHA-256, integrity value, type and precompressed encodings.
func runManifest(args []string, stdout, stderr io.Writer) int {
	c := newCLI("manifest", manifestSynopsis, "", stdout, stderr)
	c.logs()
	strategy := c.fl.String("strategy", string(stampfs.Content), strategyUsage)
	prefix := c.fl.String("prefix", "/static/", "the URL path DIR is served at; starts and ends with /")
	base := c.fl.String("base", "", "an origin put before every URL: https://cdn.example.com")
	out := c.fl.String("o", "", "write the manifest to `FILE` (atomically: a reader sees the old one or the new one) instead of stdout")
	version := c.fl.String("version", "", "the manifest of the stored version `STAMP` (as stampfs versions lists them) instead of DIR's files now")
	store := c.fl.String("store", "", "with -version: the version store (default DIR/"+stampfs.DefaultStore+")")
	pos, status := c.parse(args)
	if status >= 0 {
		return status
	}
	opts, err := parseStrategy(*strategy)
	if err != nil {
		return c.usageError("%v", err)
	}
	if len(pos) != 1 {
		return c.usageError("want exactly one DIR, got %d arguments", len(pos))
	}
	if err := checkFrontPrefix(*prefix); err != nil {
		return c.usageError("%v", err)
	}
	if err := checkBase(*base); err != nil {
		return c.usageError("%v", err)
	}
	dir := pos[0]
	c.dirs = pos
	mopts := &stampfs.ManifestOptions{Prefix: *prefix, Base: *base}
	var data []byte
	if *version != "" {
		if c.set("strategy") {
			return c.usageError("-version names a stored version, whose strategy is its own: drop -strategy")
		}
		data, err = versionManifest(dir, *store, *version, mopts)
	} else {
		if *store != "" {
			return c.usageError("-store is for -version")
		}
		opts.Hash = true
		opts.Progress = c.progress()
		opts.Logger = c.logger()
		var snap *stampfs.Snapshot
		if snap, err = stampfs.Scan(afero.NewOsFs(), dir, &opts); err == nil {
			data, err = manifestJSON(dir, snap, mopts)
		}
	}
	if err != nil {
		return c.fail(err)
	}
	if *out == "" {
		_, err = stdout.Write(data)
	} else {
		err = writeFileAtomic(*out, data)
	}
	if err != nil {
		return c.fail(fmt.Errorf("write: %w", err))
	}
	return exitOK
}

// manifestSynopsis is the usage line of manifest.
const manifestSynopsis = "stampfs manifest [-q] [-strategy content|mtime|git|fixed=VALUE | -version STAMP [-store PATH]] [-prefix /static/] [-base URL] [-o FILE] DIR"

// linkManifest holds link's -manifest, -prefix and -base flags.
type linkManifest struct {
	file, prefix, base *string
}

// manifestFlags adds -manifest FILE and the -prefix and -base of its URLs
// to link.
func manifestFlags(c *cli) linkManifest {
	return linkManifest{
		file:   c.fl.String("manifest", "", "also write the version's manifest to `FILE`, atomically, as stampfs manifest -o would"),
		prefix: c.fl.String("prefix", "/static/", "with -manifest: the URL path DIR is served at; starts and ends with /"),
		base:   c.fl.String("base", "", "with -manifest: an origin put before every URL"),
	}
}

// check checks the flags, as manifest checks its own; the status is -1
// when link should go on.
func (m linkManifest) check(c *cli) int {
	if err := checkFrontPrefix(*m.prefix); err != nil {
		return c.usageError("%v", err)
	}
	if err := checkBase(*m.base); err != nil {
		return c.usageError("%v", err)
	}
	return -1
}

// write writes the manifest of v, the version just published, when
// -manifest was given: the same document stampfs manifest prints, from the
// same scan that made the version.
func (m linkManifest) write(v *stampfs.Version) error {
	if *m.file == "" {
		return nil
	}
	man, err := v.Manifest(&stampfs.ManifestOptions{Prefix: *m.prefix, Base: *m.base})
	if err != nil {
		return notUTF8(err)
	}
	data, err := man.MarshalIndent()
	if err == nil {
		err = writeFileAtomic(*m.file, data)
	}
	if err != nil {
		return fmt.Errorf("write the manifest: %w", err)
	}
	return nil
}

// checkBase checks a -base value as stampfs.ManifestOptions.Base takes it.
func checkBase(base string) error {
	if base == "" || strings.HasPrefix(base, "https://") || strings.HasPrefix(base, "http://") || strings.HasPrefix(base, "//") {
		return nil
	}
	return fmt.Errorf("-base %q: want an origin starting with https://, http:// or //", base)
}

// manifestJSON returns the indented manifest of snap, reading the bytes of
// dir (the directory snap scanned) through an os.Root, so that no file
// swapped for a link since the scan is followed out of dir. A name that
// JSON cannot hold is an error naming the file.
func manifestJSON(dir string, snap *stampfs.Snapshot, opts *stampfs.ManifestOptions) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	m, err := stampfs.NewManifest(root.FS(), snap, opts)
	if err != nil {
		return nil, notUTF8(err)
	}
	return m.MarshalIndent()
}

// versionManifest returns the indented manifest of the version stamp in
// DIR's store (or store), computed from its stored bytes.
func versionManifest(dir, store, stamp string, opts *stampfs.ManifestOptions) ([]byte, error) {
	l := stampfs.NewLinker(afero.NewOsFs(), dir)
	l.Store = store
	v, err := l.Version(stamp)
	if err != nil {
		return nil, err
	}
	m, err := v.Manifest(opts)
	if err != nil {
		return nil, notUTF8(err)
	}
	return m.MarshalIndent()
}

// notUTF8 rewords the manifest's error for a name JSON cannot hold, naming
// the file; it returns other errors as they are.
func notUTF8(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "manifest" && errors.Is(err, fs.ErrInvalid) {
		return fmt.Errorf("file name %q: not valid UTF-8, which JSON cannot hold; rename it", pe.Path)
	}
	return err
}

// writeFileAtomic writes data to a new file beside name and renames it over
// name, so that a reader sees the whole old file or the whole new one.
func writeFileAtomic(name string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

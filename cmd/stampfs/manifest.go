package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
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
	fl := flag.NewFlagSet("stampfs manifest", flag.ContinueOnError)
	fl.SetOutput(stderr)
	strategy := fl.String("strategy", string(stampfs.Content), strategyUsage)
	prefix := fl.String("prefix", "/static/", "the URL path DIR is served at; starts and ends with /")
	base := fl.String("base", "", "an origin put before every URL: https://cdn.example.com")
	out := fl.String("o", "", "write the manifest to `FILE` (atomically: a reader sees the old one or the new one) instead of stdout")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: stampfs manifest [-strategy content|mtime|git|fixed=VALUE] [-prefix /static/] [-base URL] [-o FILE] DIR")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "stampfs manifest: "+format+"\n", a...)
		fl.Usage()
		return exitUsage
	}
	if fl.NArg() != 1 {
		return usageErr("want exactly one DIR, got %d arguments", fl.NArg())
	}
	opts, err := parseStrategy(*strategy)
	if err != nil {
		return usageErr("%v", err)
	}
	if err := checkFrontPrefix(*prefix); err != nil {
		return usageErr("%v", err)
	}
	if err := checkBase(*base); err != nil {
		return usageErr("%v", err)
	}
	dir := fl.Arg(0)
	opts.Hash = true
	opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	snap, err := stampfs.Scan(afero.NewOsFs(), dir, &opts)
	if err != nil {
		fmt.Fprintf(stderr, "stampfs manifest: %v\n", err)
		return exitError
	}
	data, err := manifestJSON(dir, snap, &stampfs.ManifestOptions{Prefix: *prefix, Base: *base})
	if err != nil {
		fmt.Fprintf(stderr, "stampfs manifest: %v\n", err)
		return exitError
	}
	if *out == "" {
		_, err = stdout.Write(data)
	} else {
		err = writeFileAtomic(*out, data)
	}
	if err != nil {
		fmt.Fprintf(stderr, "stampfs manifest: %v\n", err)
		return exitError
	}
	return exitOK
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
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "manifest" && errors.Is(err, fs.ErrInvalid) {
		return nil, fmt.Errorf("file name %q is not valid UTF-8, which JSON cannot hold; rename it", pe.Path)
	}
	if err != nil {
		return nil, err
	}
	return m.MarshalIndent()
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

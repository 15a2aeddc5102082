package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		status int
		err    string // first line of stderr
	}{
		{"-h", []string{"-h"}, exitOK, ""},
		{"no DIR", []string{"-to", "s3://b/p"}, exitUsage, "stampfs publish: want exactly one DIR, got 0 arguments"},
		{"no -to", []string{dir}, exitUsage, "stampfs publish: -to s3://BUCKET/PREFIX is required"},
		{"bad -to", []string{"-to", "s3://b//p", dir}, exitUsage, `stampfs publish: -to "s3://b//p": want s3://BUCKET or s3://BUCKET/PREFIX with a clean PREFIX: invalid argument`},
		{"bad -keep", []string{"-to", "s3://b/p", "-keep", "-1", dir}, exitUsage, "stampfs publish: -keep -1: want 0 or more"},
		{"bad -jobs", []string{"-to", "s3://b/p", "-jobs", "0", dir}, exitUsage, "stampfs publish: -jobs 0: want 1 or more"},
		{"bad -strategy", []string{"-to", "s3://b/p", "-strategy", "fixed=.x", dir}, exitUsage, `stampfs publish: bad -strategy "fixed=.x"`},
		{"unknown flag", []string{"-nope", dir}, exitUsage, "stampfs publish: flag provided but not defined: -nope"},
		{"missing DIR", []string{"-to", "s3://b/p", filepath.Join(dir, "nope")}, exitError, "stampfs publish: " + filepath.Join(dir, "nope") + ": "},
		{"bad -base", []string{"-to", "s3://b/p", "-base", "cdn.example.com", dir}, exitUsage, `stampfs publish: -base "cdn.example.com": want an origin starting with https://, http:// or //`},
		{"flags after DIR", []string{dir, "-to", "s3://b/p", "-jobs", "0"}, exitUsage, "stampfs publish: -jobs 0: want 1 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			status := run(context.Background(), tt.args, &out, &errOut, false)
			assert.Equal(t, tt.status, status, errOut.String())
			if tt.status == exitOK {
				assert.True(t, strings.HasPrefix(out.String(), "usage: "+synopsis+"\n\nflags:\n"), out.String())
				assert.Contains(t, out.String(), "\n  -q\tquiet: log warnings and errors only\n")
				assert.Empty(t, errOut.String())
				return
			}
			assert.Empty(t, out.String())
			first, _, _ := strings.Cut(errOut.String(), "\n")
			assert.True(t, strings.HasPrefix(first, tt.err), "stderr: %s", errOut.String())
			if tt.status == exitUsage {
				assert.True(t, strings.HasSuffix(errOut.String(), "usage: "+synopsis+"\nRun 'stampfs help publish' for details.\n"), errOut.String())
			}
		})
	}
}

func TestVersionOfDir(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"a.css": "a", "a.css.gz": "gz", ".hidden": "x"} {
		assert.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	l := stampfs.NewLinker(afero.NewOsFs(), dir)
	v, err := version(l, parseOK(t, "content"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"gzip"}, v.Manifest.Files["a.css"].Encodings)
	assert.Len(t, v.Files, 2, "every counted file, siblings included")
	data, err := fs.ReadFile(v.FS, "a.css.gz")
	require.NoError(t, err)
	assert.Equal(t, "gz", string(data), "the bytes, from the store")
	_, err = os.Stat(filepath.Join(dir, stampfs.DefaultStore, v.Manifest.Stamp, "a.css"))
	assert.NoError(t, err, "the version is in DIR's store")
	v, err = version(l, parseOK(t, "fixed=v1"), nil)
	require.NoError(t, err)
	assert.Equal(t, "v1", v.Manifest.Stamp)
	assert.NotEqual(t, [32]byte{}, v.Files[0].SHA256, "hashed whatever the strategy")
}

func parseOK(t *testing.T, s string) (o stampfs.ScanOptions) {
	t.Helper()
	o, err := parseStrategy(s)
	assert.NoError(t, err)
	return o
}

// Package fstree builds file trees for tests from one line per entry, as
// os/root_test.go's makefs does: "css/a.css" is a file, "img/" a directory,
// "v1 => ." a symbolic link to ".". It serves the tests of vfs and vfstest,
// which cannot share a _test.go file.
package fstree

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// Build makes every entry of specs on fsys, parents as needed, each file
// holding content(name). A link needs an fsys that is an afero.Linker.
func Build(t testing.TB, fsys afero.Fs, content func(name string) []byte, specs ...string) {
	t.Helper()
	for _, spec := range specs {
		switch name, target, isLink := strings.Cut(spec, " => "); {
		case isLink:
			require.NoError(t, fsys.MkdirAll(filepath.Dir(name), 0o755))
			linker, ok := fsys.(afero.Linker)
			require.True(t, ok, "%s cannot make links", fsys.Name())
			require.NoError(t, linker.SymlinkIfPossible(target, name))
		case strings.HasSuffix(spec, "/"):
			require.NoError(t, fsys.MkdirAll(spec, 0o755))
		default:
			require.NoError(t, fsys.MkdirAll(filepath.Dir(spec), 0o755))
			require.NoError(t, afero.WriteFile(fsys, spec, content(spec), 0o644))
		}
	}
}

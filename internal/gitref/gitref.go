// Package gitref reads the commit that HEAD names in a git repository from the
// files git keeps (HEAD, loose refs, packed-refs, worktree and submodule
// "gitdir:" files, commondir), on any afero.Fs, without running git.
//
// It is the reader behind the stampfs Git strategy. Its errors read
// "stampfs: git: …" and wrap fs.ErrNotExist (no repository, no HEAD, an
// unborn branch), fs.ErrInvalid (a malformed file or ref) or
// errors.ErrUnsupported (the reftable format).
package gitref

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/afero"
)

// Head returns the full object id (40 or 64 lowercase hex digits) that HEAD
// names in the git repository that holds dir, found as git finds it:
// dir/.git, then .git in each parent. On the OS file system (*afero.OsFs) a
// relative dir is made absolute first, so that the parents are searched.
func Head(fsys afero.Fs, dir string) (string, error) {
	start := dir
	if _, isOS := fsys.(*afero.OsFs); isOS {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("stampfs: git: %w", err)
		}
		start = abs
	}
	repo, err := findRepo(fsys, start)
	if err != nil {
		return "", err
	}
	return repo.resolve("HEAD", 0)
}

// gitRepo is where a repository keeps HEAD (gitDir) and its shared refs
// (commonDir, which differs from gitDir in a linked worktree).
type gitRepo struct {
	fsys      afero.Fs
	gitDir    string
	commonDir string
}

func findRepo(fsys afero.Fs, start string) (*gitRepo, error) {
	for d := start; ; {
		dotGit := filepath.Join(d, ".git")
		info, err := fsys.Stat(dotGit)
		switch {
		case err == nil && info.IsDir():
			if _, err := fsys.Stat(filepath.Join(dotGit, "HEAD")); err == nil {
				return newGitRepo(fsys, dotGit)
			}
		case err == nil && info.Mode().IsRegular():
			gitDir, err := readGitFile(fsys, dotGit)
			if err != nil {
				return nil, err
			}
			return newGitRepo(fsys, gitDir)
		case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return nil, fmt.Errorf("stampfs: git: %w", err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return nil, fmt.Errorf("stampfs: git: no repository (.git) in %s or any parent directory: %w", start, fs.ErrNotExist)
}

// readGitFile reads a worktree's or submodule's .git file, "gitdir: PATH",
// where a relative PATH is relative to the file's directory.
func readGitFile(fsys afero.Fs, name string) (string, error) {
	b, err := afero.ReadFile(fsys, name)
	if err != nil {
		return "", fmt.Errorf("stampfs: git: %w", err)
	}
	line := strings.TrimRight(string(b), "\r\n")
	target, ok := strings.CutPrefix(line, "gitdir: ")
	if !ok || target == "" || strings.ContainsAny(target, "\n\x00") {
		return "", fmt.Errorf("stampfs: git: %s is not a \"gitdir: PATH\" file: %w", name, fs.ErrInvalid)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(name), target)
	}
	return target, nil
}

func newGitRepo(fsys afero.Fs, gitDir string) (*gitRepo, error) {
	r := &gitRepo{fsys: fsys, gitDir: gitDir, commonDir: gitDir}
	b, err := afero.ReadFile(fsys, filepath.Join(gitDir, "commondir"))
	switch {
	case err == nil:
		common := strings.TrimRight(string(b), "\r\n")
		if common == "" || strings.ContainsAny(common, "\n\x00") {
			return nil, fmt.Errorf("stampfs: git: %s does not hold a path: %w", filepath.Join(gitDir, "commondir"), fs.ErrInvalid)
		}
		if !filepath.IsAbs(common) {
			common = filepath.Join(gitDir, common)
		}
		r.commonDir = common
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("stampfs: git: %w", err)
	}
	return r, nil
}

// maxSymrefs bounds a chain of symbolic refs, as git does.
const maxSymrefs = 5

// resolve returns the object id that the ref name holds, following symbolic
// refs, loose refs first, then packed-refs.
func (r *gitRepo) resolve(name string, depth int) (string, error) {
	if depth > maxSymrefs {
		return "", fmt.Errorf("stampfs: git: symbolic refs nest deeper than %d at %s: %w", maxSymrefs, name, fs.ErrInvalid)
	}
	if name != "HEAD" && !validRefName(name) {
		return "", fmt.Errorf("stampfs: git: bad ref name %q: %w", name, fs.ErrInvalid)
	}
	if name == "refs/heads/.invalid" {
		return "", fmt.Errorf("stampfs: git: %s uses the reftable format, which stampfs cannot read: %w", r.commonDir, errors.ErrUnsupported)
	}
	dir := r.commonDir
	if name == "HEAD" || strings.HasPrefix(name, "refs/worktree/") || strings.HasPrefix(name, "refs/bisect/") || strings.HasPrefix(name, "refs/rewritten/") {
		dir = r.gitDir
	}
	file := filepath.Join(dir, filepath.FromSlash(name))
	value, err := r.readLoose(file)
	if err != nil {
		return "", err
	}
	if value == "" && name != "HEAD" {
		value, err = r.readPacked(name)
		if err != nil {
			return "", err
		}
	}
	switch target, symbolic := strings.CutPrefix(value, "ref: "); {
	case value == "" && name == "HEAD":
		return "", fmt.Errorf("stampfs: git: no HEAD at %s: %w", file, fs.ErrNotExist)
	case value == "":
		return "", fmt.Errorf("stampfs: git: %s has no commit yet (an unborn branch or a missing ref) in %s: %w", name, r.commonDir, fs.ErrNotExist)
	case symbolic:
		return r.resolve(strings.TrimSpace(target), depth+1)
	case !isObjectID(value):
		return "", fmt.Errorf("stampfs: git: ref %s holds %q, not an object id: %w", name, value, fs.ErrInvalid)
	}
	return value, nil
}

// readLoose returns the trimmed content of a loose ref file, or "" when there
// is none.
func (r *gitRepo) readLoose(file string) (string, error) {
	info, err := r.fsys.Stat(file)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && info.IsDir()) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("stampfs: git: %w", err)
	}
	b, err := afero.ReadFile(r.fsys, file)
	if err != nil {
		return "", fmt.Errorf("stampfs: git: %w", err)
	}
	value := strings.TrimSpace(string(b))
	if value == "" {
		return "", fmt.Errorf("stampfs: git: %s is empty: %w", file, fs.ErrInvalid)
	}
	return value, nil
}

// readPacked returns the object id packed-refs holds for name, or "". Lines
// are "<id> <name>", "^<id>" (the peeled object of the tag above, which is
// not what the ref names) and "#" comments.
func (r *gitRepo) readPacked(name string) (string, error) {
	file := filepath.Join(r.commonDir, "packed-refs")
	b, err := afero.ReadFile(r.fsys, file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("stampfs: git: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || line[0] == '#' || line[0] == '^' {
			continue
		}
		id, ref, ok := strings.Cut(line, " ")
		if ok && ref == name {
			if !isObjectID(id) {
				return "", fmt.Errorf("stampfs: git: %s holds %q for %s, not an object id: %w", file, id, name, fs.ErrInvalid)
			}
			return id, nil
		}
	}
	return "", nil
}

// validRefName accepts the ref names that can safely name a file below a git
// directory: "refs/" and slash-separated segments that are not empty, "." or
// "..", without backslashes or control characters.
func validRefName(name string) bool {
	rest, ok := strings.CutPrefix(name, "refs/")
	if !ok {
		return false
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// isObjectID reports whether s is a full SHA-1 or SHA-256 object id in
// lowercase hex, as git writes them.
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

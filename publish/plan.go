package publish

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/stampfs/stampfs"
)

// object is one key of the version being published.
type object struct {
	name string // the file's name in the version
	key  string
	size int64
	meta ObjectMeta
	base string // for a precompressed sibling, the name it is served for
}

// published is a stampfs version found in the bucket: PREFIX/<stamp>.json
// parsed as a manifest of that stamp.
type published struct {
	manifest *stampfs.Manifest
	raw      []byte
	modified time.Time // of the manifest object: the version's age
	written  time.Time // ObjectInfo.Written of the manifest: orders versions of the same modified
}

// newer orders versions newest first: by LastModified, then by the time the
// publisher wrote (LastModified may have whole seconds), then by stamp.
func newer(a, b *published) int {
	if c := b.modified.Compare(a.modified); c != 0 {
		return c
	}
	if c := b.written.Compare(a.written); c != 0 {
		return c
	}
	return strings.Compare(b.manifest.Stamp, a.manifest.Stamp)
}

// stepKind says what Publish does with one object.
type stepKind int

const (
	skip   stepKind = iota // already at its key with the same SHA-256
	copyIn                 // copied inside the store from src
	upload                 // sent from the version's bytes
)

// step is what Publish does with one object.
type step struct {
	kind stepKind
	obj  object
	src  string // key to copy from
	// verify is set when src's SHA-256 is not known from a manifest (a
	// precompressed sibling): Publish heads src first and uploads when it
	// differs.
	verify bool
}

// planObjects decides, for every object of the version, whether to skip,
// copy or upload it. own is the version's manifest already in the bucket
// (nil when there is none); existing maps the keys found under
// PREFIX/<stamp>/ to what Head said of them; others are the other stampfs
// versions in the bucket, the sources of copies.
//
// A version whose manifest is already in the bucket but lists other bytes
// is an error wrapping fs.ErrExist, and so is an object at one of the
// version's keys that stampfs did not write (no SHA-256 in its metadata).
func planObjects(prefix string, m *stampfs.Manifest, objs []object, own *published, existing map[string]ObjectInfo, others []*published) ([]step, error) {
	steps := make([]step, 0, len(objs))
	if own != nil {
		if err := sameFiles(own.manifest, m); err != nil {
			return nil, err
		}
	}
	// Copy sources: any complete version's file with the same bytes, newest
	// version first so that the source is the least likely to be pruned.
	others = slices.Clone(others)
	slices.SortStableFunc(others, newer)
	bySum := make(map[string]string)
	for _, p := range others {
		for _, name := range slices.Sorted(maps.Keys(p.manifest.Files)) {
			f := p.manifest.Files[name]
			if _, ok := bySum[f.SHA256]; !ok {
				bySum[f.SHA256] = objectKey(prefix, p.manifest.Stamp, name)
			}
		}
	}
	for _, o := range objs {
		if e, ok := existing[o.key]; ok {
			switch e.SHA256 {
			case o.meta.SHA256:
				steps = append(steps, step{kind: skip, obj: o})
				continue
			case "":
				return nil, &fs.PathError{Op: "publish", Path: o.key, Err: fmt.Errorf("an object that stampfs did not write (no sha256 metadata) is in the way: %w", fs.ErrExist)}
			}
			// Written by an earlier publish of this stamp that never
			// finished, with other bytes: no manifest names it yet.
		}
		if o.base == "" {
			if src, ok := bySum[o.meta.SHA256]; ok {
				steps = append(steps, step{kind: copyIn, obj: o, src: src})
				continue
			}
		} else if src, ok := siblingSource(prefix, m, o, others); ok {
			steps = append(steps, step{kind: copyIn, obj: o, src: src, verify: true})
			continue
		}
		steps = append(steps, step{kind: upload, obj: o})
	}
	return steps, nil
}

// siblingSource returns the key of the same precompressed sibling in another
// version whose base file has the same bytes: the likely copy source, whose
// own SHA-256 no manifest holds.
func siblingSource(prefix string, m *stampfs.Manifest, o object, others []*published) (string, bool) {
	base := m.Files[o.base]
	enc := o.meta.ContentEncoding
	for _, p := range others {
		if f, ok := p.manifest.Files[o.base]; ok && f.SHA256 == base.SHA256 && slices.Contains(f.Encodings, enc) {
			return objectKey(prefix, p.manifest.Stamp, o.name), true
		}
	}
	return "", false
}

// sameFiles returns nil when old and m list the same files with the same
// bytes, and an error wrapping fs.ErrExist naming the first difference:
// a stamp's bytes never change.
func sameFiles(old, m *stampfs.Manifest) error {
	differ := func(name, why string) error {
		return fmt.Errorf("stamp %s is already published with other bytes (%s: %s); a stamp's bytes never change: %w", m.Stamp, name, why, fs.ErrExist)
	}
	for _, name := range slices.Sorted(maps.Keys(m.Files)) {
		f := m.Files[name]
		g, ok := old.Files[name]
		switch {
		case !ok:
			return differ(name, "not in the published version")
		case g.SHA256 != f.SHA256:
			return differ(name, "other content")
		case !slices.Equal(g.Encodings, f.Encodings):
			return differ(name, "other precompressed siblings")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(old.Files)) {
		if _, ok := m.Files[name]; !ok {
			return differ(name, "only in the published version")
		}
	}
	return nil
}

// planPrune returns the versions to prune and the keys of their objects to
// delete: every version but those in keepStamps (the current ones), the keep
// newest others and all younger than grace. It never returns a key that a
// retained version lists, nor one no pruned manifest lists; the manifests'
// own keys are not in keys (delete them last, so that a rerun finds what
// is left).
func planPrune(prefix string, versions []*published, keepStamps []string, now time.Time, keep int, grace time.Duration) (pruned []*published, keys []string) {
	others := make([]*published, 0, len(versions))
	var retained []*published
	for _, p := range versions {
		if slices.Contains(keepStamps, p.manifest.Stamp) {
			retained = append(retained, p)
		} else {
			others = append(others, p)
		}
	}
	slices.SortStableFunc(others, newer)
	for i, p := range others {
		if i < keep || now.Sub(p.modified) < grace {
			retained = append(retained, p)
		} else {
			pruned = append(pruned, p)
		}
	}
	held := make(map[string]bool)
	for _, p := range retained {
		for _, k := range manifestKeys(prefix, p.manifest) {
			held[k] = true
		}
	}
	for _, p := range pruned {
		for _, k := range manifestKeys(prefix, p.manifest) {
			if !held[k] {
				keys = append(keys, k)
			}
		}
	}
	return pruned, keys
}

// siblingExt maps a manifest encoding to the name suffix of its sibling.
var siblingExt = map[string]string{"br": ".br", "gzip": ".gz"}

// manifestKeys returns the object keys a manifest's version holds: its
// served files and their precompressed siblings, in name order.
func manifestKeys(prefix string, m *stampfs.Manifest) []string {
	var keys []string
	for _, name := range slices.Sorted(maps.Keys(m.Files)) {
		keys = append(keys, objectKey(prefix, m.Stamp, name))
		for _, enc := range m.Files[name].Encodings {
			if ext, ok := siblingExt[enc]; ok {
				keys = append(keys, objectKey(prefix, m.Stamp, name+ext))
			}
		}
	}
	return keys
}

// objectKey is the key of a version's file: PREFIX/<stamp>/<name>, the name
// as stored, unescaped.
func objectKey(prefix, stamp, name string) string {
	return dirKey(prefix) + stamp + "/" + name
}

// manifestKey is the key of a version's manifest: PREFIX/<stamp>.json.
func manifestKey(prefix, stamp string) string {
	return dirKey(prefix) + stamp + ".json"
}

// currentKey is PREFIX/current.json.
func currentKey(prefix string) string {
	return dirKey(prefix) + "current.json"
}

// dirKey is the prefix every key starts with: "PREFIX/", or "" for the root.
func dirKey(prefix string) string {
	if prefix == "" {
		return ""
	}
	return prefix + "/"
}

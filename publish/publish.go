package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stampfs/stampfs"
	"github.com/stampfs/stampfs/vfs"
)

// Version is one stamp's bytes as Publish takes them: what the disk store's
// stampfs.Version holds, or a scanned directory.
type Version struct {
	// Manifest is the version's manifest, published as is: its URLs are
	// those the CDN will be asked for (ManifestOptions.Prefix "/PREFIX/"
	// and Base the CDN's origin, for a CDN that maps its root onto the
	// bucket).
	Manifest *stampfs.Manifest
	// FS holds the version's bytes at their names.
	FS fs.FS
	// Files optionally lists every counted file with its SHA-256; the
	// sums of precompressed siblings come from it. Without it they are
	// read from FS.
	Files []stampfs.File
}

// Options configures Publish. A nil *Options means the zero value, and every
// zero field means its default.
type Options struct {
	// Prefix is the key prefix, without a leading or trailing slash; ""
	// is the bucket's root. It must be a valid fs.FS path.
	Prefix string
	// Keep and Grace say which other versions survive: the Keep newest
	// and all whose manifest is younger than Grace. Zero means
	// stampfs.DefaultKeep and stampfs.DefaultGrace (2 and one hour), as on
	// disk; a negative value means none.
	Keep  int
	Grace time.Duration
	// Jobs bounds the requests in flight. Default 16.
	Jobs int
	// Progress, when set, is called after each object is done, never
	// concurrently.
	Progress func(Stats)
	// Logger receives each version pruned. Nil is silent.
	Logger *slog.Logger
	// Now returns the time retention is judged at. Default time.Now.
	Now func() time.Time
}

// Stats counts what Publish did.
type Stats struct {
	Objects  int   // objects of the version
	Done     int   // of them, done so far
	Uploaded int   // sent from the version's bytes
	Copied   int   // copied inside the store from another version
	Skipped  int   // already in place
	Deleted  int   // keys of pruned versions deleted, manifests included
	Bytes    int64 // object bytes sent
	Pruned   []string
}

// Publish puts v in b: every object, then PREFIX/<stamp>.json, then
// PREFIX/current.json, then prunes old versions (see the package doc).
//
// Errors: a bad Prefix or stamp (the stamp "current" included) wraps
// fs.ErrInvalid; a stamp already published with other bytes, an object at
// the version's keys or a current.json that stampfs did not write wraps
// fs.ErrExist, and nothing is written then. A failed request is an error
// naming the key; current.json is then left as it was. Stats tells what was
// done, also on an error.
func Publish(ctx context.Context, b Bucket, v *Version, opts *Options) (Stats, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Keep = orDefault(o.Keep, stampfs.DefaultKeep)
	o.Grace = orDefault(o.Grace, stampfs.DefaultGrace)
	o.Jobs = orDefault(o.Jobs, 16)
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &publisher{b: b, v: v, o: o}
	err := p.run(ctx)
	return p.stats, err
}

// orDefault resolves a retention setting as stampfs.Linker does: zero means
// def, negative none.
func orDefault[T int | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// publisher is one run of Publish.
type publisher struct {
	b Bucket
	v *Version
	o Options

	mu    sync.Mutex // guards stats, and serializes Progress calls
	stats Stats
}

func (p *publisher) run(ctx context.Context) error {
	m, prefix := p.v.Manifest, p.o.Prefix
	if prefix != "" && !fs.ValidPath(prefix) {
		return fmt.Errorf("key prefix %q: want a slash-separated path without a leading or trailing slash: %w", prefix, fs.ErrInvalid)
	}
	if m == nil || !vfs.ValidSegment(m.Stamp) || m.Stamp == "current" {
		return fmt.Errorf("bad stamp in the manifest (\"current\" is reserved for current.json): %w", fs.ErrInvalid)
	}
	raw, err := m.MarshalIndent()
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	objs, err := p.objects()
	if err != nil {
		return err
	}
	p.stats.Objects = len(objs)

	versions, current, err := p.readVersions(ctx)
	if err != nil {
		return err
	}
	var own *published
	var others []*published
	for _, v := range versions {
		if v.manifest.Stamp == m.Stamp {
			own = v
		} else {
			others = append(others, v)
		}
	}
	existing, err := p.existing(ctx, objs, own != nil)
	if err != nil {
		return err
	}
	steps, err := planObjects(prefix, m, objs, own, existing, others)
	if err != nil {
		return err
	}
	if err := p.parallel(ctx, len(steps), func(ctx context.Context, i int) error {
		return p.do(ctx, steps[i])
	}); err != nil {
		return err
	}

	mkey := manifestKey(prefix, m.Stamp)
	if own == nil || !bytes.Equal(own.raw, raw) {
		if err := p.putManifest(ctx, mkey, raw, CacheImmutable); err != nil {
			return err
		}
	}
	if current == nil || !bytes.Equal(current.raw, raw) {
		if err := p.putManifest(ctx, currentKey(prefix), raw, CacheNoCache); err != nil {
			return err
		}
	}
	if err := p.prune(ctx, append(others, &published{manifest: m})); err != nil {
		return fmt.Errorf("%s is current, but pruning old versions failed: %w", m.Stamp, err)
	}
	return nil
}

// objects lists the keys of the version: each served file, then its
// precompressed siblings.
func (p *publisher) objects() ([]object, error) {
	m, prefix := p.v.Manifest, p.o.Prefix
	sums := make(map[string]fileSum, len(p.v.Files))
	for _, f := range p.v.Files {
		sums[f.Name] = fileSum{f.Size, hex.EncodeToString(f.SHA256[:])}
	}
	var objs []object
	for _, name := range slices.Sorted(maps.Keys(m.Files)) {
		f := m.Files[name]
		meta := ObjectMeta{ContentType: f.Type, CacheControl: CacheImmutable, SHA256: f.SHA256}
		objs = append(objs, object{name: name, key: objectKey(prefix, m.Stamp, name), size: f.Size, meta: meta})
		for _, enc := range f.Encodings {
			ext, ok := siblingExt[enc]
			if !ok {
				return nil, fmt.Errorf("%s: unknown encoding %q in the manifest: %w", name, enc, fs.ErrInvalid)
			}
			sib := name + ext
			s, ok := sums[sib]
			if !ok {
				var err error
				if s, err = sumFile(p.v.FS, sib); err != nil {
					return nil, err
				}
			}
			meta := ObjectMeta{ContentType: f.Type, ContentEncoding: enc, CacheControl: CacheImmutable, SHA256: s.sha256}
			objs = append(objs, object{name: sib, key: objectKey(prefix, m.Stamp, sib), size: s.size, meta: meta, base: name})
		}
	}
	return objs, nil
}

// fileSum is a file's size and hex SHA-256.
type fileSum struct {
	size   int64
	sha256 string
}

func sumFile(fsys fs.FS, name string) (fileSum, error) {
	r, err := fsys.Open(name)
	if err != nil {
		return fileSum{}, err
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return fileSum{}, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return fileSum{n, hex.EncodeToString(h.Sum(nil))}, nil
}

// readVersions lists PREFIX/ and reads every stampfs manifest there, and
// current.json (nil when absent).
func (p *publisher) readVersions(ctx context.Context) (versions []*published, current *published, err error) {
	dir := dirKey(p.o.Prefix)
	top, err := p.b.List(ctx, dir, "/")
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var keys []ObjectInfo
	for _, o := range top {
		stamp, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, dir), ".json")
		if ok && vfs.ValidSegment(stamp) {
			keys = append(keys, o)
		}
	}
	found := make([]*published, len(keys))
	err = p.parallel(ctx, len(keys), func(ctx context.Context, i int) error {
		raw, info, err := p.b.Get(ctx, keys[i].Key)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // pruned by another publisher meanwhile
		} else if err != nil {
			return fmt.Errorf("read %s: %w", keys[i].Key, err)
		}
		m, err := stampfs.ParseManifest(raw)
		stamp := strings.TrimSuffix(strings.TrimPrefix(keys[i].Key, dir), ".json")
		isCurrent := stamp == "current"
		switch {
		case err == nil && (isCurrent || m.Stamp == stamp):
			found[i] = &published{manifest: m, raw: raw, modified: info.LastModified, written: info.Written}
		case isCurrent:
			return fmt.Errorf("%s is not a stampfs manifest; refusing to overwrite it: %w", keys[i].Key, fs.ErrExist)
		}
		// Any other JSON object is not stampfs's: never read again, never
		// deleted.
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for i, f := range found {
		switch {
		case f == nil:
		case keys[i].Key == currentKey(p.o.Prefix):
			current = f
		default:
			versions = append(versions, f)
		}
	}
	return versions, current, nil
}

// existing lists PREFIX/<stamp>/ and returns what it holds of the
// version's keys. When the version's manifest is in the bucket (complete),
// a listed key of the right size holds the object; otherwise each listed key
// is headed for its SHA-256: it may be what an interrupted publish of the
// same stamp left, with other bytes. Listing even a complete version finds
// objects that an interrupted prune deleted before their manifest.
func (p *publisher) existing(ctx context.Context, objs []object, complete bool) (map[string]ObjectInfo, error) {
	dir := dirKey(p.o.Prefix) + p.v.Manifest.Stamp + "/"
	list, err := p.b.List(ctx, dir, "")
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	listed := make(map[string]ObjectInfo, len(list))
	for _, o := range list {
		listed[o.Key] = o
	}
	existing := make(map[string]ObjectInfo)
	var found []string
	for _, o := range objs {
		info, ok := listed[o.key]
		switch {
		case !ok:
		case complete && info.Size == o.size:
			info.SHA256 = o.meta.SHA256
			existing[o.key] = info
		default:
			found = append(found, o.key)
		}
	}
	infos := make([]ObjectInfo, len(found))
	err = p.parallel(ctx, len(found), func(ctx context.Context, i int) error {
		info, err := p.b.Head(ctx, found[i])
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return fmt.Errorf("head %s: %w", found[i], err)
		}
		infos[i] = info
		infos[i].Key = found[i]
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, info := range infos {
		if info.Key != "" {
			existing[info.Key] = info
		}
	}
	return existing, nil
}

// do carries out one step.
func (p *publisher) do(ctx context.Context, s step) error {
	var sent int64
	switch s.kind {
	case copyIn:
		ok, err := p.copyIn(ctx, s)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		s.kind = upload
		fallthrough
	case upload:
		n, err := p.upload(ctx, s.obj)
		if err != nil {
			return err
		}
		sent = n
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Done++
	p.stats.Bytes += sent
	switch s.kind {
	case skip:
		p.stats.Skipped++
	case copyIn:
		p.stats.Copied++
	case upload:
		p.stats.Uploaded++
	}
	if p.o.Progress != nil {
		p.o.Progress(p.stats)
	}
	return nil
}

// copyIn copies s.src to the object's key and reports whether it did: a
// source that is gone (pruned by another publisher) or, for a sibling,
// holds other bytes is not copied.
func (p *publisher) copyIn(ctx context.Context, s step) (bool, error) {
	if s.verify {
		info, err := p.b.Head(ctx, s.src)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("head %s: %w", s.src, err)
		}
		if info.SHA256 != s.obj.meta.SHA256 {
			return false, nil
		}
	}
	err := p.b.Copy(ctx, s.src, s.obj.key, s.obj.meta)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("copy %s to %s: %w", s.src, s.obj.key, err)
	}
	return true, nil
}

// bigFile is the size from which upload hashes a file in a pass of its own
// instead of holding it in memory.
const bigFile = 16 << 20

// upload sends one object from the version's bytes, after checking them
// against the SHA-256 its metadata will carry.
func (p *publisher) upload(ctx context.Context, o object) (int64, error) {
	f, err := p.v.FS.Open(o.name)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", o.key, err)
	}
	defer f.Close()
	var body io.ReadSeeker
	var size int64
	h := sha256.New()
	if rs, ok := f.(io.ReadSeeker); ok && o.size >= bigFile {
		if size, err = io.Copy(h, rs); err == nil {
			_, err = rs.Seek(0, io.SeekStart)
		}
		body = rs
	} else {
		var data []byte
		if data, err = io.ReadAll(f); err == nil {
			h.Write(data)
		}
		body, size = bytes.NewReader(data), int64(len(data))
	}
	if err != nil {
		return 0, fmt.Errorf("upload %s: read %s: %w", o.key, o.name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != o.meta.SHA256 {
		return 0, fmt.Errorf("upload %s: %s changed since its stamp was made (sha256 %s, want %s)", o.key, o.name, got, o.meta.SHA256)
	}
	if err := p.b.Put(ctx, o.key, body, size, o.meta); err != nil {
		return 0, fmt.Errorf("upload %s: %w", o.key, err)
	}
	return size, nil
}

func (p *publisher) putManifest(ctx context.Context, key string, raw []byte, cache string) error {
	sum := sha256.Sum256(raw)
	meta := ObjectMeta{ContentType: "application/json", CacheControl: cache, SHA256: hex.EncodeToString(sum[:]), Written: time.Now()}
	if err := p.b.Put(ctx, key, bytes.NewReader(raw), int64(len(raw)), meta); err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

// prune deletes the versions that retention drops: their objects, then
// their manifests. It keeps the version current.json names now, which
// another publisher may have just written.
func (p *publisher) prune(ctx context.Context, versions []*published) error {
	keepStamps := []string{p.v.Manifest.Stamp}
	raw, _, err := p.b.Get(ctx, currentKey(p.o.Prefix))
	if err != nil {
		return fmt.Errorf("read %s: %w", currentKey(p.o.Prefix), err)
	}
	if m, err := stampfs.ParseManifest(raw); err == nil {
		keepStamps = append(keepStamps, m.Stamp)
	}
	pruned, keys := planPrune(p.o.Prefix, versions, keepStamps, p.o.Now(), p.o.Keep, p.o.Grace)
	if len(pruned) == 0 {
		return nil
	}
	var manifests []string
	for _, v := range pruned {
		manifests = append(manifests, manifestKey(p.o.Prefix, v.manifest.Stamp))
	}
	for _, batch := range [][]string{keys, manifests} {
		for chunk := range slices.Chunk(batch, 1000) {
			if err := p.b.Delete(ctx, chunk...); err != nil {
				return fmt.Errorf("delete %s and %d more: %w", chunk[0], len(chunk)-1, err)
			}
			p.mu.Lock()
			p.stats.Deleted += len(chunk)
			p.mu.Unlock()
		}
	}
	for _, v := range pruned {
		p.stats.Pruned = append(p.stats.Pruned, v.manifest.Stamp)
		if p.o.Logger != nil {
			p.o.Logger.Info("stampfs publish: pruned", "stamp", v.manifest.Stamp, "published", v.modified)
		}
	}
	return nil
}

// parallel runs fn(ctx, i) for i in [0, n) on at most Jobs goroutines and
// returns the first error; the others' ctx is cancelled then.
func (p *publisher) parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(p.o.Jobs, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel(err) })
				}
			}
		})
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
			continue
		case <-ctx.Done():
		}
		break
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = context.Cause(ctx)
	}
	return first
}

package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"
)

// memBucket is an in-memory Bucket that records every write.
type memBucket struct {
	mu         sync.Mutex
	objects    map[string]memObject
	now        time.Time
	log        []string // "put KEY", "copy SRC DST", "delete KEY", in order
	sent       int64    // bytes of Put bodies
	failPut    func(key string) error
	failDelete error
}

type memObject struct {
	data     []byte
	meta     ObjectMeta
	modified time.Time
}

func newMemBucket() *memBucket {
	return &memBucket{objects: map[string]memObject{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// tick advances the bucket's clock, which stamps LastModified.
func (b *memBucket) tick(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(d)
}

func (b *memBucket) put(key string, data []byte, meta ObjectMeta) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key] = memObject{data, meta, b.now}
}

func (b *memBucket) writes() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.log)
}

func (b *memBucket) keys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []string
	for k := range b.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (b *memBucket) info(key string, o memObject) ObjectInfo {
	return ObjectInfo{Key: key, Size: int64(len(o.data)), LastModified: o.modified, SHA256: o.meta.SHA256, Written: o.meta.Written}
}

func (b *memBucket) List(ctx context.Context, prefix, delimiter string) ([]ObjectInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var list []ObjectInfo
	for k, o := range b.objects {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || (delimiter != "" && strings.Contains(rest, delimiter)) {
			continue
		}
		i := b.info(k, o)
		i.SHA256 = "" // as S3's ListObjectsV2
		list = append(list, i)
	}
	slices.SortFunc(list, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return list, nil
}

func (b *memBucket) Head(ctx context.Context, key string) (ObjectInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	if !ok {
		return ObjectInfo{}, fmt.Errorf("head %s: %w", key, fs.ErrNotExist)
	}
	return b.info(key, o), nil
}

func (b *memBucket) Get(ctx context.Context, key string) ([]byte, ObjectInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	if !ok {
		return nil, ObjectInfo{}, fmt.Errorf("get %s: %w", key, fs.ErrNotExist)
	}
	return slices.Clone(o.data), b.info(key, o), nil
}

func (b *memBucket) Put(ctx context.Context, key string, body io.ReadSeeker, size int64, meta ObjectMeta) error {
	if b.failPut != nil {
		if err := b.failPut(key); err != nil {
			return err
		}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(data)) != size {
		return fmt.Errorf("put %s: body of %d bytes, size %d", key, len(data), size)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != meta.SHA256 {
		return fmt.Errorf("put %s: metadata sha256 %s does not match the body", key, meta.SHA256)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key] = memObject{data, meta, b.now}
	b.log = append(b.log, "put "+key)
	b.sent += size
	return nil
}

func (b *memBucket) Copy(ctx context.Context, src, dst string, meta ObjectMeta) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[src]
	if !ok {
		return fmt.Errorf("copy %s: %w", src, fs.ErrNotExist)
	}
	b.objects[dst] = memObject{o.data, meta, b.now}
	b.log = append(b.log, "copy "+src+" "+dst)
	return nil
}

func (b *memBucket) Delete(ctx context.Context, keys ...string) error {
	if b.failDelete != nil {
		return b.failDelete
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		delete(b.objects, k)
		b.log = append(b.log, "delete "+k)
	}
	return nil
}

var _ Bucket = (*memBucket)(nil)

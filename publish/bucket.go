package publish

import (
	"context"
	"io"
	"time"
)

// Bucket is the part of an object store that Publish uses. Keys are
// slash-separated strings, stored exactly as given (no escaping). Methods are
// called from several goroutines at once.
//
// Errors for a key that does not exist wrap fs.ErrNotExist.
type Bucket interface {
	// List returns the objects whose keys start with prefix. With a
	// non-empty delimiter, keys holding it after the prefix are left out
	// (S3's CommonPrefixes are not reported). SHA256 may be empty.
	List(ctx context.Context, prefix, delimiter string) ([]ObjectInfo, error)
	// Head returns what the store holds at key, SHA256 included.
	Head(ctx context.Context, key string) (ObjectInfo, error)
	// Get returns the bytes at key; Publish reads only manifests with it.
	Get(ctx context.Context, key string) ([]byte, ObjectInfo, error)
	// Put writes body (size bytes; it is rewound and sent again on retries)
	// at key with meta.
	Put(ctx context.Context, key string, body io.ReadSeeker, size int64, meta ObjectMeta) error
	// Copy writes the bytes at src to dst inside the store, with meta
	// replacing src's.
	Copy(ctx context.Context, src, dst string, meta ObjectMeta) error
	// Delete removes keys; a key that does not exist is not an error.
	Delete(ctx context.Context, keys ...string) error
}

// ObjectInfo is what a Bucket reports of one object.
type ObjectInfo struct {
	Key          string
	Size         int64
	LastModified time.Time
	SHA256       string    // lowercase hex from the object's metadata; "" when unknown or absent
	Written      time.Time // ObjectMeta.Written as stored; zero when unknown or absent
}

// ObjectMeta is what Publish writes with an object: the HTTP headers a CDN
// passes on, and the SHA-256 of its bytes.
type ObjectMeta struct {
	ContentType     string
	ContentEncoding string // "br" or "gzip" for a precompressed sibling, else ""
	CacheControl    string
	SHA256          string    // lowercase hex; stored as the metadata "sha256"
	Written         time.Time // for manifests, when Publish wrote it, to order versions published within LastModified's second; stored as "written", RFC 3339 with nanoseconds
}

// Cache-Control values of the objects Publish writes.
const (
	CacheImmutable = "public, max-age=31536000, immutable" // PREFIX/S/NAME and PREFIX/S.json
	CacheNoCache   = "no-cache"                            // PREFIX/current.json
)

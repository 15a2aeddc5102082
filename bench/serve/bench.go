package serve

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Bench measures one side: b.N sequential GETs of side.Path through
// side.Handler. Each response goes to a Discard writer, so the figure is the
// handler's own cost, not a recorder's.
func Bench(b *testing.B, side Side) {
	r := NewRequest(side.Path)
	w := &Discard{}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.Reset()
		side.Handler.ServeHTTP(w, r)
		if w.Status != http.StatusOK || w.Bytes != AssetSize {
			b.Fatalf("%s: GET %s: status %d, %d bytes; want 200, %d bytes", side.Name, side.Path, w.Status, w.Bytes, AssetSize)
		}
	}
}

// BenchRecorder measures side like Bench but gives every request a fresh
// httptest.ResponseRecorder, as a handler test would: the figure includes
// the recorder's allocations, the same for every side, and, for the sides
// that copy the file with io.Copy, the copy buffer io.Copy allocates because
// a recorder is no io.ReaderFrom.
func BenchRecorder(b *testing.B, side Side) {
	r := NewRequest(side.Path)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		side.Handler.ServeHTTP(w, r)
		if w.Code != http.StatusOK || w.Body.Len() != AssetSize {
			b.Fatalf("%s: GET %s: status %d, %d bytes; want 200, %d bytes", side.Name, side.Path, w.Code, w.Body.Len(), AssetSize)
		}
	}
}

// Discard is an http.ResponseWriter that keeps the status and the number of
// body bytes and drops the body. It is reused across requests with Reset.
//
// Like net/http's own response writer it is an io.ReaderFrom that copies
// through a buffer it keeps, so a handler that copies a file (io.Copy,
// io.CopyN) pays no buffer allocation per request here, as it pays none in a
// real server.
type Discard struct {
	Status int   // 0 until WriteHeader, Write or ReadFrom
	Bytes  int64 // body bytes written
	header http.Header
	buf    []byte // ReadFrom's buffer
}

// Header returns the response header map.
func (d *Discard) Header() http.Header {
	if d.header == nil {
		d.header = make(http.Header)
	}
	return d.header
}

// WriteHeader records the status of the first call.
func (d *Discard) WriteHeader(status int) {
	if d.Status == 0 {
		d.Status = status
	}
}

// Write counts p and implies status 200 when no header was written.
func (d *Discard) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	d.Bytes += int64(len(p))
	return len(p), nil
}

// ReadFrom reads r to its end into d's buffer, counting the bytes, and
// implies status 200 when no header was written.
func (d *Discard) ReadFrom(r io.Reader) (int64, error) {
	d.WriteHeader(http.StatusOK)
	if d.buf == nil {
		d.buf = make([]byte, 32<<10)
	}
	var n int64
	for {
		m, err := r.Read(d.buf)
		n += int64(m)
		d.Bytes += int64(m)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// Reset readies d for the next request, keeping the header map's storage.
func (d *Discard) Reset() {
	d.Status, d.Bytes = 0, 0
	clear(d.header)
}

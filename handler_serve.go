package stampfs

import (
	"bytes"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stampfs/stampfs/vfs"
)

// Shared header values, assigned straight into response header maps. Their
// capacity equals their length, so an append by a middleware copies them.
var (
	ccImmutable  = []string{"public, max-age=31536000, immutable"}[:1:1]
	ccNoCache    = []string{"no-cache"}[:1:1]
	ccNoStore    = []string{"no-store"}[:1:1]
	hdrNosniff   = []string{"nosniff"}[:1:1]
	hdrVaryAE    = []string{"Accept-Encoding"}[:1:1]
	hdrBytes     = []string{"bytes"}[:1:1]
	hdrAllow     = []string{"GET, HEAD"}[:1:1]
	hdrTextPlain = []string{"text/plain; charset=utf-8"}[:1:1]
	hdrZero      = []string{"0"}[:1:1]

	notFoundBody   = []byte("404 page not found\n")
	notFoundLen    = []string{strconv.Itoa(len(notFoundBody))}[:1:1]
	notAllowedBody = []byte("405 method not allowed\n")
	notAllowedLen  = []string{strconv.Itoa(len(notAllowedBody))}[:1:1]
)

// dispatch routes a request by one table lookup, as ServeHTTP spells out.
func (h *Handler) dispatch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr := w.Header()
		hdr["Allow"] = hdrAllow
		hdr["Content-Type"] = hdrTextPlain
		hdr["X-Content-Type-Options"] = hdrNosniff
		hdr["Content-Length"] = notAllowedLen
		w.WriteHeader(http.StatusMethodNotAllowed)
		w.Write(notAllowedBody)
		return
	}
	st := h.cur.Load()
	p := r.URL.Path
	if len(p) <= len(h.prefix) || p[:len(h.prefix)] != h.prefix || encodedSeparator(r.URL.RawPath) {
		if !strings.HasPrefix(p, h.prefix) && p+"/" != h.prefix {
			h.misroute.Do(func() {
				h.log(slog.LevelWarn, "stampfs: a request outside Prefix: mount the Handler at its prefix, without http.StripPrefix", "path", p, "prefix", h.prefix)
			})
		}
		notFound(w, r, nil)
		return
	}
	rest := p[len(h.prefix):]
	if strings.IndexByte(rest, '\\') >= 0 {
		notFound(w, r, nil)
		return
	}
	if rt, ok := st.routes[rest]; ok {
		if rt.stamped {
			h.serve(w, r, st, rt.e, ccImmutable)
		} else {
			h.serve(w, r, st, rt.e, ccNoCache)
		}
		return
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 {
		notFound(w, r, nil)
		return
	}
	stamp, name := rest[:i], rest[i+1:]
	if stamp != st.stamp && st.version != nil && vfs.ValidSegment(stamp) {
		if vt := h.versionState(stamp); vt != nil {
			if e := vt.files[name]; e != nil {
				h.serve(w, r, vt, e, ccImmutable)
				return
			}
		}
	}
	e := st.files[name]
	if e == nil || !vfs.ValidSegment(stamp) {
		notFound(w, r, nil)
		return
	}
	if st.servedBefore(stamp, e.pick(r)) {
		h.serve(w, r, st, e, ccImmutable)
		return
	}
	switch h.stale {
	case StaleNotFound:
		notFound(w, r, e)
	case StaleRedirect:
		if e.shadowed {
			h.serve(w, r, st, e, ccNoCache)
			return
		}
		w.Header()["Location"] = e.location
		noBody(w, e, http.StatusFound)
	default:
		h.serve(w, r, st, e, ccNoCache)
	}
}

// encodedSeparator reports whether an escaped path holds an encoded /,
// which the Handler refuses rather than reading as a separator. (A \ is
// refused in any spelling: url.URL keeps no RawPath for "%5C".)
func encodedSeparator(raw string) bool {
	for i := 0; i+2 < len(raw); i++ {
		if raw[i] == '%' && raw[i+1] == '2' && (raw[i+2] == 'f' || raw[i+2] == 'F') {
			return true
		}
	}
	return false
}

// notFound writes the fixed 404. e, when known, adds Vary for its siblings.
func notFound(w http.ResponseWriter, r *http.Request, e *entry) {
	hdr := w.Header()
	hdr["Cache-Control"] = ccNoStore
	hdr["Content-Type"] = hdrTextPlain
	hdr["X-Content-Type-Options"] = hdrNosniff
	hdr["Content-Length"] = notFoundLen
	if e != nil && e.vary() {
		hdr["Vary"] = hdrVaryAE
	}
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		w.Write(notFoundBody)
	}
}

// noBody writes an empty response with status and Cache-Control: no-store.
// e adds Vary for its siblings.
func noBody(w http.ResponseWriter, e *entry, status int) {
	hdr := w.Header()
	hdr["Cache-Control"] = ccNoStore
	hdr["Content-Length"] = hdrZero
	if e.vary() {
		hdr["Vary"] = hdrVaryAE
	}
	w.WriteHeader(status)
}

// serve writes e (or the sibling the client accepts) with Cache-Control cc.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, st *state, e *entry, cc []string) {
	rep := e.pick(r)
	// If-Match is decided here, before any I/O, as http.ServeContent
	// decides it (etagListMatch), so that ServeContent never answers 412:
	// it would send its 412 with this response's headers, immutable and,
	// for a sibling, a Content-Length that no body follows. A matching
	// If-Match changes nothing.
	if im := r.Header.Get("If-Match"); im != "" && !etagListMatch(im, rep.etag[0], false) {
		noBody(w, e, http.StatusPreconditionFailed)
		return
	}
	conditional := r.Header["Range"] != nil || r.Header["If-None-Match"] != nil
	var content io.ReadSeeker
	if rep.data == nil {
		rc, fi, err := st.open(rep.name)
		if err == nil && !rep.matches(fi) {
			rc.Close()
			err = &fs.PathError{Op: "open", Path: rep.name, Err: errChanged}
		}
		if err != nil {
			h.log(slog.LevelWarn, "stampfs: cannot serve a file of the snapshot", "file", rep.name, "err", err.Error())
			notFound(w, r, e)
			return
		}
		defer rc.Close()
		switch f := rc.(type) {
		case io.ReaderAt: // seeking a section never touches the file
			content = io.NewSectionReader(f, 0, rep.size)
		case io.ReadSeeker:
			content = f
		default:
			h.serveStream(w, r, e, rep, cc, rc)
			return
		}
	}
	hdr := setHeaders(w, e, rep, cc)
	if !conditional && rep.data != nil {
		hdr["Accept-Ranges"] = hdrBytes
		hdr["Content-Length"] = rep.clen
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(rep.data)
		}
		return
	}
	if content == nil {
		content = bytes.NewReader(rep.data)
	}
	if rep.enc != nil && r.Header["Range"] == nil {
		hdr["Content-Length"] = rep.clen // ServeContent leaves it out when Content-Encoding is set
	}
	http.ServeContent(w, r, "", time.Time{}, content)
}

// setHeaders sets the headers every response with rep's bytes carries, for
// a request of e, and returns the header map.
func setHeaders(w http.ResponseWriter, e, rep *entry, cc []string) http.Header {
	hdr := w.Header()
	hdr["Cache-Control"] = cc
	hdr["Content-Type"] = rep.ctype
	hdr["Etag"] = rep.etag
	hdr["X-Content-Type-Options"] = hdrNosniff
	if e.vary() {
		hdr["Vary"] = hdrVaryAE
	}
	if rep.enc != nil {
		hdr["Content-Encoding"] = rep.enc
	}
	return hdr
}

// serveStream serves a file of an fs.FS that cannot seek: whole, or 304.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request, e, rep *entry, cc []string, rc io.Reader) {
	hdr := setHeaders(w, e, rep, cc)
	if etagListMatch(r.Header.Get("If-None-Match"), rep.etag[0], true) {
		delete(hdr, "Content-Type")
		delete(hdr, "Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr["Content-Length"] = rep.clen
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.CopyN(w, rc, rep.size)
	}
}

package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// limits bounds what a client may hold of the server. Tests shrink them.
type limits struct {
	header time.Duration // to send a request's headers
	body   time.Duration // to send a request's body (the handlers read none; net/http reads it to reuse the connection)
	idle   time.Duration // a keep-alive connection may wait for its next request
	stall  time.Duration // for each writeChunk bytes of a response to leave
	// highWater is the number of open connections above which keep-alives
	// are turned off and idle connections closed, until the count is back
	// to half of it. Zero means 3/4 of the descriptors left under the soft
	// RLIMIT_NOFILE.
	highWater int
	sndbuf    int                            // socket send buffer of accepted connections; 0 leaves the kernel's
	connState func(net.Conn, http.ConnState) // called after the tracker's own hook, for tests
}

// defaultLimits: idle connections go after a minute (nginx's
// keepalive_timeout is 75 s), a client that stops sending or reading is cut
// off within a minute, and one that reads at 1 KiB/s or more is never cut off.
var defaultLimits = limits{header: 10 * time.Second, body: 30 * time.Second, idle: 60 * time.Second, stall: 60 * time.Second}

// writeChunk is the most a response write sends under one deadline: with
// stall 60 s, a client must read 64 KiB a minute.
const writeChunk = 64 << 10

// newServer returns an http.Server for h with lim's timeouts, and the
// listener to serve it on: ln's connections, with a fresh write deadline
// for every chunk they send.
func newServer(h http.Handler, ln net.Listener, lim limits, errorLog *slog.Logger) (*http.Server, net.Listener) {
	srv := &http.Server{
		Handler:           bodyDeadline(h, lim.body),
		ReadHeaderTimeout: lim.header,
		IdleTimeout:       lim.idle,
		ErrorLog:          slog.NewLogLogger(errorLog.Handler(), slog.LevelWarn),
	}
	high := lim.highWater
	if high == 0 {
		high = descriptorHighWater()
	}
	t := &connTracker{srv: srv, high: high, low: high / 2}
	srv.ConnState = t.state
	if hook := lim.connState; hook != nil {
		srv.ConnState = func(c net.Conn, s http.ConnState) { t.state(c, s); hook(c, s) }
	}
	return srv, &stallListener{Listener: ln, lim: lim}
}

// descriptorHighWater is 3/4 of the descriptors left under the soft limit
// on open files (Go raises it to the hard limit at start) once those open
// now and a reserve of 16 (logs, a probe, files streamed) are set aside.
func descriptorHighWater() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 1 << 20
	}
	free := int(rl.Cur) - openFiles() - 16
	return max(free/4*3, 4)
}

// openFiles counts the process's open descriptors where /proc says, and
// guesses 16 elsewhere.
func openFiles() int {
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 16
	}
	return len(des) - 1 // the directory ReadDir had open
}

// bodyDeadline gives a request that has a body d to send it.
func bodyDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != http.NoBody {
			// Fails only for a writer that cannot, which the server's can.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

// connTracker turns keep-alives off while more than high connections are
// open, which closes the idle ones at once, every connection that goes idle
// meanwhile, and every other one after its response, so that descriptors
// stay free for new clients; it turns them on again at low.
type connTracker struct {
	srv       *http.Server
	high, low int
	shedding  atomic.Bool

	mu   sync.Mutex
	open int
}

func (t *connTracker) state(c net.Conn, s http.ConnState) {
	switch s {
	case http.StateActive:
		return // once a request: keep it cheap
	case http.StateIdle:
		if t.shedding.Load() {
			c.Close() // answered before keep-alives went off
		}
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s == http.StateNew {
		t.open++
	} else {
		t.open--
	}
	switch {
	case !t.shedding.Load() && t.open > t.high:
		t.shedding.Store(true)
		t.srv.SetKeepAlivesEnabled(false) // closes the idle connections
	case t.shedding.Load() && t.open <= t.low:
		t.shedding.Store(false)
		t.srv.SetKeepAlivesEnabled(true)
	}
}

// stallListener hands out stallConns.
type stallListener struct {
	net.Listener
	lim limits
}

func (l *stallListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	if l.lim.sndbuf > 0 {
		tc.SetWriteBuffer(l.lim.sndbuf)
	}
	return &stallConn{TCPConn: tc, stall: l.lim.stall}, nil
}

// stallConn is a TCP connection whose writes must each move writeChunk
// bytes within stall: a minimum rate rather than a total time, so that a
// slow client still gets a large file and a stopped one is cut off.
type stallConn struct {
	*net.TCPConn
	stall time.Duration
	set   time.Time // when the write deadline was last moved
}

// extend moves the write deadline to stall from now, unless it was moved
// less than stall/8 ago: every chunk gets at least 7/8 of stall, and a
// busy connection does not reset its timer on every small write.
func (c *stallConn) extend() error {
	now := time.Now()
	if now.Sub(c.set) < c.stall/8 {
		return nil
	}
	c.set = now
	return c.SetWriteDeadline(now.Add(c.stall))
}

func (c *stallConn) Write(p []byte) (n int, err error) {
	for len(p) > 0 {
		chunk := p[:min(len(p), writeChunk)]
		if err := c.extend(); err != nil {
			return n, err
		}
		m, err := c.TCPConn.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// ReadFrom sends r in chunks of writeChunk, each under a fresh deadline,
// through the TCP connection's own ReadFrom, so that a file still goes by
// sendfile.
func (c *stallConn) ReadFrom(r io.Reader) (n int64, err error) {
	src, limit := r, int64(-1)
	if lr, ok := r.(*io.LimitedReader); ok {
		src, limit = lr.R, lr.N
		defer func() { lr.N -= n }()
	}
	for limit < 0 || n < limit {
		want := int64(writeChunk)
		if limit >= 0 {
			want = min(want, limit-n)
		}
		if err := c.extend(); err != nil {
			return n, err
		}
		m, err := c.TCPConn.ReadFrom(&io.LimitedReader{R: src, N: want})
		n += m
		if err != nil || m < want {
			return n, err
		}
	}
	return n, nil
}

// router sends every path under prefix, as the client spelled it, to
// static, "/" to index, and answers 404 itself for anything else: no
// ServeMux cleans, redirects or answers a path before the stampfs handler
// sees it.
type router struct {
	prefix string
	static http.Handler
	index  http.Handler // nil when static is mounted at "/"
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, rt.prefix):
		rt.static.ServeHTTP(w, r)
	case p == "/" && rt.index != nil:
		rt.index.ServeHTTP(w, r)
	default:
		notFound(w, r)
	}
}

// notFound answers 404 as the stampfs handler does: no-store, fixed body.
func notFound(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", "19")
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		io.WriteString(w, "404 page not found\n")
	}
}

// accessLog logs every request after its response: in the common log
// format on w, or through logger when logger is not nil.
func accessLog(h http.Handler, w io.Writer, logger *slog.Logger) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &logWriter{ResponseWriter: rw}
		h.ServeHTTP(lw, r)
		if lw.status == 0 {
			lw.status = http.StatusOK
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if logger != nil {
			logger.Info("stampfs: request", "remote", host, "method", r.Method, "uri", r.RequestURI, "proto", r.Proto,
				"status", lw.status, "bytes", lw.bytes, "took", time.Since(start))
			return
		}
		size := "-"
		if lw.bytes > 0 {
			size = fmt.Sprint(lw.bytes)
		}
		line := fmt.Sprintf("%s - - [%s] %q %d %s\n", host, start.Format("02/Jan/2006:15:04:05 -0700"),
			r.Method+" "+r.RequestURI+" "+r.Proto, lw.status, size)
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(w, line)
	})
}

// logWriter records the status and the body bytes of a response.
type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *logWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *logWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the server's sendfile path for streamed files.
func (w *logWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

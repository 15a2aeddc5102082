package main

import (
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/stampfs/stampfs"
)

// progressAfter is how long a scan or publish runs before its progress
// line appears; tests set it to 0.
var progressAfter = time.Second

// clearLine goes back to the start of the line and erases it.
const clearLine = "\r\033[K"

// progressLine is the one updating line that tells, on a terminal, how a
// scan or publish goes: "stampfs link: 12,345 of 100,000 files, 45.6 of
// 400.0 MB, 120 MB/s, eta 3s". It is also the io.Writer of the command's
// other stderr output, which it writes above the line.
type progressLine struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string // "stampfs link: "
	shown  string // the line on the terminal, without clearLine; "" for none
}

// progress returns the ScanOptions.Progress of the command: nil with -q or
// when stderr is not a terminal, else one that keeps a progressLine. Call it
// before logger, which then writes through the line.
func (c *cli) progress() func(stampfs.Progress) {
	if c.quiet != nil && *c.quiet || !isTerminal(c.stderr) {
		return nil
	}
	if c.line == nil {
		c.line = &progressLine{w: c.stderr, prefix: "stampfs " + c.name + ": "}
	}
	return c.line.update
}

// isTerminal reports whether w is a character device, as a terminal is.
// An io.Writer that is not an *os.File never is.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update shows p once the work has run for progressAfter, and ends the
// line with a newline when p is the last report and a line was shown.
func (l *progressLine) update(p stampfs.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.Elapsed < progressAfter {
		return
	}
	l.shown = l.prefix + formatProgress(p)
	io.WriteString(l.w, clearLine+l.shown)
	if p.Done {
		io.WriteString(l.w, "\n")
		l.shown = ""
	}
}

// Write writes b, whole lines, above the progress line.
func (l *progressLine) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shown == "" {
		return l.w.Write(b)
	}
	if _, err := io.WriteString(l.w, clearLine); err != nil {
		return 0, err
	}
	n, err := l.w.Write(b)
	if err == nil {
		_, err = io.WriteString(l.w, l.shown)
	}
	return n, err
}

// formatProgress formats p as "12,345 of 100,000 files, 45.6 of 400.0 MB,
// 120 MB/s, eta 3s", leaving out the totals and the eta while they are not
// known, and the eta once done.
func formatProgress(p stampfs.Progress) string {
	unit, scale := "MB", 1e6
	if max(p.Bytes, p.TotalBytes) >= 10e9 {
		unit, scale = "GB", 1e9
	}
	s := thousands(p.Files)
	if p.TotalFiles > 0 {
		s += " of " + thousands(p.TotalFiles)
	}
	s += " files, " + strconv.FormatFloat(float64(p.Bytes)/scale, 'f', 1, 64)
	if p.TotalBytes > 0 {
		s += " of " + strconv.FormatFloat(float64(p.TotalBytes)/scale, 'f', 1, 64)
	}
	s += " " + unit
	secs := p.Elapsed.Seconds()
	if secs <= 0 {
		return s
	}
	rate := float64(p.Bytes) / secs // bytes a second
	prec := 0
	if rate < 10e6 {
		prec = 1
	}
	s += ", " + strconv.FormatFloat(rate/1e6, 'f', prec, 64) + " MB/s"
	if !p.Done && p.TotalBytes > 0 && rate > 0 {
		left := time.Duration(float64(max(p.TotalBytes-p.Bytes, 0)) / rate * float64(time.Second))
		s += ", eta " + left.Round(time.Second).String()
	}
	return s
}

// thousands formats n with a comma between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

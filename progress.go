package stampfs

import (
	"sync/atomic"
	"time"
)

// Progress is what a ScanOptions.Progress callback is told of a running
// Scan or Linker.Publish.
//
// Files and Bytes count the work done: for a scan that reads content (the
// Content strategy, or ScanOptions.Hash), the files hashed and the bytes
// read, as they are read; for one that does not, the files listed and their
// sizes; for Publish, the files stored, copied or linked from the previous
// version, with their sizes (its own scan reads no content and counts
// nothing). TotalFiles and TotalBytes are 0 until they are known: once the
// walk is over, before hashing or copying starts, or only at the end where
// the walk hashes as it goes (Scan of afero.OsFs on Linux).
type Progress struct {
	Files, Bytes           int64         // done
	TotalFiles, TotalBytes int64         // 0 until known
	Elapsed                time.Duration // since the scan or publish started
	Done                   bool          // the last call, made whether or not the work succeeded
}

// progressEvery is how often a meter reports.
var progressEvery = 150 * time.Millisecond

// meter counts the progress of one Scan or Publish and reports it to a
// ScanOptions.Progress callback from one goroutine at a time. A nil *meter
// counts nothing and costs a nil check, so the hot paths call it without
// asking whether anyone listens.
type meter struct {
	fn                     func(Progress)
	start                  time.Time
	files, bytes           atomic.Int64
	totalFiles, totalBytes atomic.Int64
	stop, stopped          chan struct{}
}

// startMeter starts reporting to fn every progressEvery until finish; with a
// nil fn it returns nil.
func startMeter(fn func(Progress)) *meter {
	if fn == nil {
		return nil
	}
	m := &meter{fn: fn, start: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(m.stopped)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.fn(m.progress())
			}
		}
	}()
	return m
}

// add counts files and bytes done.
func (m *meter) add(files, bytes int64) {
	if m == nil {
		return
	}
	if files != 0 {
		m.files.Add(files)
	}
	if bytes != 0 {
		m.bytes.Add(bytes)
	}
}

// total records the totals, once they are known.
func (m *meter) total(files []File) {
	if m == nil {
		return
	}
	var bytes int64
	for i := range files {
		bytes += files[i].Size
	}
	m.totalFiles.Store(int64(len(files)))
	m.totalBytes.Store(bytes)
}

func (m *meter) progress() Progress {
	return Progress{
		Files: m.files.Load(), Bytes: m.bytes.Load(),
		TotalFiles: m.totalFiles.Load(), TotalBytes: m.totalBytes.Load(),
		Elapsed: time.Since(m.start),
	}
}

// finish stops the reports and makes the last one, with Done set, on the
// calling goroutine once the reporting one has returned. It may be called
// more than once; only the first call reports.
func (m *meter) finish() {
	if m == nil || m.fn == nil {
		return
	}
	close(m.stop)
	<-m.stopped
	p := m.progress()
	p.Done = true
	fn := m.fn
	m.fn = nil
	fn(p)
}

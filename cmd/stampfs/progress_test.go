package main

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stampfs/stampfs"
)

func TestFormatProgress(t *testing.T) {
	tests := []struct {
		p    stampfs.Progress
		want string
	}{
		{stampfs.Progress{}, "0 files, 0.0 MB"},
		{stampfs.Progress{Files: 12345, Bytes: 45_600_000, Elapsed: 2 * time.Second}, "12,345 files, 45.6 MB, 23 MB/s"},
		{stampfs.Progress{Files: 12345, Bytes: 45_600_000, TotalFiles: 100000, TotalBytes: 400_000_000, Elapsed: 380 * time.Millisecond},
			"12,345 of 100,000 files, 45.6 of 400.0 MB, 120 MB/s, eta 3s"},
		{stampfs.Progress{Files: 3, Bytes: 1_500_000, TotalFiles: 3, TotalBytes: 1_500_000, Elapsed: time.Second, Done: true},
			"3 of 3 files, 1.5 of 1.5 MB, 1.5 MB/s"},
		{stampfs.Progress{Files: 1000, Bytes: 12_000_000_000, TotalFiles: 2000, TotalBytes: 24_000_000_000, Elapsed: 100 * time.Second},
			"1,000 of 2,000 files, 12.0 of 24.0 GB, 120 MB/s, eta 1m40s"},
		{stampfs.Progress{Files: 1, TotalFiles: 1, Elapsed: time.Second}, "1 of 1 files, 0.0 MB, 0.0 MB/s"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, formatProgress(tt.p))
		})
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 123456: "123,456", 1234567: "1,234,567", -1234: "-1,234"} {
		assert.Equal(t, want, thousands(n), n)
	}
}

func TestProgressLine(t *testing.T) {
	saved := progressAfter
	t.Cleanup(func() { progressAfter = saved })
	progressAfter = time.Second

	var out bytes.Buffer
	l := &progressLine{w: &out, prefix: "stampfs link: "}
	p := stampfs.Progress{Files: 1, Bytes: 1e6, TotalFiles: 2, TotalBytes: 2e6}

	p.Elapsed = 900 * time.Millisecond
	l.update(p)
	fmt.Fprintln(l, "a log line")
	assert.Equal(t, "a log line\n", out.String(), "nothing shown before a second")

	out.Reset()
	p.Elapsed = 1100 * time.Millisecond
	l.update(p)
	fmt.Fprintln(l, "a log line")
	p.Files, p.Bytes, p.Elapsed = 2, 2e6, 2*time.Second
	l.update(p)
	p.Done = true
	l.update(p)
	fmt.Fprintln(l, "after")
	assert.Equal(t, "\r\x1b[Kstampfs link: 1 of 2 files, 1.0 of 2.0 MB, 0.9 MB/s, eta 1s"+
		"\r\x1b[Ka log line\nstampfs link: 1 of 2 files, 1.0 of 2.0 MB, 0.9 MB/s, eta 1s"+
		"\r\x1b[Kstampfs link: 2 of 2 files, 2.0 of 2.0 MB, 1.0 MB/s, eta 0s"+
		"\r\x1b[Kstampfs link: 2 of 2 files, 2.0 of 2.0 MB, 1.0 MB/s\n"+
		"after\n", out.String())
}

func TestProgressNeedsAFile(t *testing.T) {
	c := newCLI("stamp", "", "", &bytes.Buffer{}, &bytes.Buffer{})
	assert.Nil(t, c.progress(), "a writer that is not an *os.File is no terminal")
}

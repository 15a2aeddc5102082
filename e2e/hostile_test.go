package e2e_test

import (
	"bufio"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNginxHostile(t *testing.T) { testFrontHostile(t, nginxFront(t)) }

func TestApacheHostile(t *testing.T) { testFrontHostile(t, apacheFront(t)) }

// rawGet sends path unchanged in a request line (no client cleans it) and
// returns the status and body. A server that closes the connection without
// an answer gives status 0.
func rawGet(t *testing.T, addr, path string) (int, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip, br\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoErrorf(t, err, "GET %q: body", path)
	return resp.StatusCode, body
}

// servable returns every body a front server may send for dir: the bytes of
// each regular file of the live tree and the store, outside dot paths (the
// version store's own name aside).
func servable(t *testing.T, dir string) map[string]bool {
	t.Helper()
	ok := map[string]bool{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(dir, path)
		rel = strings.TrimPrefix(filepath.ToSlash(rel), storeName+"/")
		for _, seg := range strings.Split(rel, "/") {
			if strings.HasPrefix(seg, ".") && rel != "." {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			ok[string(data)] = true
		}
		return nil
	}))
	return ok
}

// hostilePaths are request paths below prefix, each of which tries to reach
// a file outside DIR, a dot file or the store by its own name.
func hostilePaths(prefix, stamp string) []string {
	ups := []string{
		"../", "..%2f", "..%2F", "%2e%2e/", "%2e%2e%2f", ".%2e/", "%2e./", "..\\", "..%5c", "..%5C",
		"%c0%ae%c0%ae/", "%c0%ae%c0%ae%c0%af", "%e0%80%ae%e0%80%ae/", "..%c0%af", "..%c1%9c",
		"%252e%252e/", "....//", "..;/", ".../", "%uff0e%uff0e/",
	}
	targets := []string{
		"etc/passwd", "etc/hostname", "proc/self/environ",
		".env", "css/.hidden", storeName + "/" + stamp + "/.stampfs-index", ".stampfs-index",
	}
	var paths []string
	for _, up := range ups {
		for depth := 1; depth <= 8; depth++ {
			for _, target := range targets {
				dots := strings.Repeat(up, depth)
				paths = append(paths, prefix+dots+target, prefix+stamp+"/"+dots+target, prefix+"css/"+dots+target)
			}
		}
	}
	for _, p := range []string{
		".env", "%2eenv", "%2Eenv", "css/%2ehidden", "css/.hidden%00", "css/site.css%00", "css/site.css%00.txt",
		"css/site.css%00/../../.env", ".env%20", ".env.", "css/.hidden/", ".ENV", "%2e%65%6e%76",
		storeName + "/", storeName + "/" + stamp + "/css/site.css", "%2estampfs/" + stamp + "/.stampfs-index",
		stamp + "/.stampfs-index", stamp + "/.stampfs-base", stamp + "/%2estampfs-index", stamp + "/css/..%2f.stampfs-index",
		"out/passwd", "out/hostname", "passwd", "0123456789ab/passwd", "abcdef012345/passwd", "abcdef012345/hostname",
		"out%2fpasswd", "vendor/site.css", "css\\site.css", "css%5csite.css", "odd/back%5cslash.css", "odd/back\\slash.css",
		"//etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "css//../../../etc/passwd",
		"%2fetc%2fpasswd", "%c0%afetc%c0%afpasswd", "css/site.css/", "css/site.css/.",
		stamp + "/" + stamp + "/" + stamp + "/css/site.css",
	} {
		paths = append(paths, prefix+p)
	}
	return paths
}

// testFrontHostile sweeps a front server with hostile paths, then flips a
// stamp-shaped link in DIR and another in the store between a version and
// /etc while clients hammer them. Every answer must be below 500, and every
// 200 must hold the bytes of a counted file of the live tree or a version:
// nothing from outside, nothing from a dot file.
func testFrontHostile(t *testing.T, fs frontServer) {
	root := t.TempDir()
	dir := frontSite(t, root)
	const prefix = "/static/"
	base := fs.start(t, root, dir, prefix)
	addr := strings.TrimPrefix(base, "http://")
	m := publishVersion(t, dir)
	ok := servable(t, dir)
	require.Contains(t, ok, "body { color: teal }\n")
	require.NotContains(t, ok, "SECRET=1\n")
	passwd, err := os.ReadFile("/etc/passwd")
	require.NoError(t, err)

	check := func(t *testing.T, path string, status int, body []byte) {
		t.Helper()
		assert.Lessf(t, status, 500, "GET %q", path)
		assert.NotContainsf(t, string(body), "SECRET=1", "GET %q: dot-file bytes", path)
		assert.NotContainsf(t, string(body), string(passwd[:min(len(passwd), 16)]), "GET %q: /etc/passwd", path)
		if status == http.StatusOK {
			assert.Truef(t, ok[string(body)], "GET %q: 200 with bytes that are no counted file's: %.80q", path, body)
		}
	}
	t.Run("sweep", func(t *testing.T) {
		paths := hostilePaths(prefix, m.Stamp)
		for _, path := range paths {
			status, body := rawGet(t, addr, path)
			check(t, path, status, body)
		}
		t.Logf("%d hostile paths", len(paths))
	})

	t.Run("flipped links", func(t *testing.T) {
		links := []string{filepath.Join(dir, "abcdef012345"), filepath.Join(dir, storeName, "abcdef012346")}
		targets := [][2]string{{storeName + "/" + m.Stamp, "/etc"}, {m.Stamp, "/etc"}}
		stop := make(chan struct{})
		var flips sync.WaitGroup
		for i, link := range links {
			flips.Add(1)
			go func() {
				defer flips.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					tmp := link + ".tmp"
					_ = os.Remove(tmp)
					if err := os.Symlink(targets[i][n%2], tmp); err == nil {
						_ = os.Rename(tmp, link)
					}
				}
			}()
		}
		var clients sync.WaitGroup
		for c := range 4 {
			clients.Add(1)
			go func() {
				defer clients.Done()
				for n := range 300 {
					name := []string{"abcdef012345", "abcdef012346"}[(n+c)%2]
					for _, p := range []string{"/passwd", "/hostname", "/css/site.css"} {
						path := prefix + name + p
						status, body := rawGet(t, addr, path)
						check(t, path, status, body)
					}
				}
			}()
		}
		clients.Wait()
		close(stop)
		flips.Wait()
	})
}

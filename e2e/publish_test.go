package e2e_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// siteFiles is the tree most publish tests start from.
var siteFiles = map[string]string{
	"css/site.css":    "body{color:red}\n",
	"css/site.css.gz": "pretend gzip of site.css",
	"css/site.css.br": "pretend brotli of site.css",
	"js/app.js":       "console.log(1)\n",
	"img/a b+c.svg":   "<svg xmlns='http://www.w3.org/2000/svg'/>",
	"fonts/ünï.woff2": "wOF2",
	".git/HEAD":       "not counted",
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
}

func manifestAt(t *testing.T, gw *gateway, key string) *stampfs.Manifest {
	t.Helper()
	m, err := stampfs.ParseManifest(gw.get(t, key).body)
	require.NoError(t, err, key)
	return m
}

func TestPublishLayoutAndHeaders(t *testing.T) {
	gw := startGateway(t)
	dir := t.TempDir()
	writeTree(t, dir, siteFiles)
	stamp, summary := gw.publishOK(t, "", "-to", "s3://"+gwBucket+"/static", "-base", "https://cdn.example.com", dir)
	require.Len(t, stamp, 12)
	var total int
	for name, data := range siteFiles {
		if !strings.HasPrefix(name, ".") {
			total += len(data)
		}
	}
	assert.Equal(t, fmt.Sprintf("stampfs publish: %s to s3://site/static: 6 uploaded, 0 copied, 0 skipped, 0 deleted, %d B sent in", stamp, total), summary[:strings.LastIndex(summary, " ")])

	v := "static/" + stamp + "/"
	assert.Equal(t, []string{
		"static/" + stamp + ".json",
		v + "css/site.css", v + "css/site.css.br", v + "css/site.css.gz",
		v + "fonts/ünï.woff2", v + "img/a b+c.svg", v + "js/app.js",
		"static/current.json",
	}, gw.keys(t, ""), "the names as stored, nothing that is not counted")

	want := map[string]struct{ typ, enc string }{
		"css/site.css":    {"text/css; charset=utf-8", ""},
		"css/site.css.gz": {"text/css; charset=utf-8", "gzip"},
		"css/site.css.br": {"text/css; charset=utf-8", "br"},
		"js/app.js":       {"text/javascript; charset=utf-8", ""},
		"img/a b+c.svg":   {"image/svg+xml", ""},
		"fonts/ünï.woff2": {"font/woff2", ""},
	}
	for name, w := range want {
		o := gw.get(t, v+name)
		assert.Equal(t, siteFiles[name], string(o.body), name)
		assert.Equal(t, w.typ, o.contentType, name)
		assert.Equal(t, w.enc, o.encoding, name)
		assert.Equal(t, "public, max-age=31536000, immutable", o.cacheControl, name)
		assert.Equal(t, sum(o.body), o.sha256, name)
	}

	cur := gw.get(t, "static/current.json")
	assert.Equal(t, "no-cache", cur.cacheControl)
	assert.Equal(t, "application/json", cur.contentType)
	ver := gw.get(t, "static/"+stamp+".json")
	assert.Equal(t, "public, max-age=31536000, immutable", ver.cacheControl)
	assert.Equal(t, string(ver.body), string(cur.body))
	m := manifestAt(t, gw, "static/current.json")
	assert.Equal(t, stamp, m.Stamp)
	assert.Equal(t, "/static/", m.Prefix)
	assert.Equal(t, []string{"br", "gzip"}, m.Files["css/site.css"].Encodings)
	// A CDN that maps its root onto the bucket is asked for the URL's path,
	// and the store unescapes it into the key.
	for name, f := range m.Files {
		u, err := url.Parse(f.URL)
		require.NoError(t, err)
		assert.Equal(t, "cdn.example.com", u.Host)
		assert.Equal(t, v+name, strings.TrimPrefix(u.Path, "/"), "the key the URL of %s asks for", name)
	}
	assert.Equal(t, "https://cdn.example.com/static/"+stamp+"/img/a%20b+c.svg", m.Files["img/a b+c.svg"].URL)

	// The Handler with the same Base renders the URLs the manifest holds.
	h, err := stampfs.New(afero.NewOsFs(), dir, &stampfs.Options{Base: "https://cdn.example.com", Mode: stampfs.ModeVirtual})
	require.NoError(t, err)
	for name, f := range m.Files {
		got, err := h.URL(name)
		require.NoError(t, err)
		assert.Equal(t, f.URL, got)
	}
}

func TestPublishSkipsAndCopies(t *testing.T) {
	gw := startGateway(t)
	rec := gw.recorder(t)
	dir := t.TempDir()
	writeTree(t, dir, siteFiles)
	to := "s3://" + gwBucket + "/static"
	s1, _ := gw.publishOK(t, rec.url, "-to", to, dir)
	log, sent := rec.requests()
	var writes []string
	for _, r := range log {
		if strings.HasPrefix(r, "PUT ") {
			writes = append(writes, r)
		}
	}
	require.Len(t, writes, 8)
	assert.Equal(t, "PUT static/current.json", writes[7], "current.json last")
	assert.Equal(t, "PUT static/"+s1+".json", writes[6], "the version's manifest after its objects")
	assert.Positive(t, sent)

	time.Sleep(1100 * time.Millisecond) // LastModified has whole seconds
	s, summary := gw.publishOK(t, rec.url, "-to", to, dir)
	assert.Equal(t, s1, s)
	assert.Contains(t, summary, ": 0 uploaded, 0 copied, 6 skipped, 0 deleted, 0 B sent in")
	log, sent = rec.requests()
	assert.Zero(t, sent, "no object bytes sent")
	for _, r := range log {
		assert.True(t, strings.HasPrefix(r, "GET ") || strings.HasPrefix(r, "HEAD "), "an unchanged tree rewrites nothing: %s", r)
	}
	head, err := gw.client.HeadObject(t.Context(), headInput("static/current.json"))
	require.NoError(t, err)

	writeTree(t, dir, map[string]string{"js/app.js": "console.log(2)\n"})
	s2, summary := gw.publishOK(t, rec.url, "-to", to, dir)
	assert.NotEqual(t, s1, s2)
	assert.Contains(t, summary, fmt.Sprintf(": 1 uploaded, 5 copied, 0 skipped, 0 deleted, %d B sent in", len("console.log(2)\n")))
	log, sent = rec.requests()
	assert.Equal(t, int64(len("console.log(2)\n")), sent-int64(len(gw.get(t, "static/current.json").body))*2, "only the changed file's bytes, and two manifests")
	assert.Contains(t, log, "COPY static/"+s2+"/css/site.css")
	assert.Contains(t, log, "COPY static/"+s2+"/css/site.css.gz")
	assert.Contains(t, log, "PUT static/"+s2+"/js/app.js")
	o := gw.get(t, "static/"+s2+"/css/site.css.gz")
	assert.Equal(t, "gzip", o.encoding, "a copy carries its headers")
	assert.Equal(t, sum(o.body), o.sha256)
	head2, err := gw.client.HeadObject(t.Context(), headInput("static/current.json"))
	require.NoError(t, err)
	assert.True(t, head2.LastModified.After(*head.LastModified))
}

func TestPublishRetention(t *testing.T) {
	gw := startGateway(t)
	theirs := []string{"static/robots.txt", "static/notes.json", "static/abcdef123456/x.css", "static/abcdef123456.json", "other/current.json"}
	for _, k := range theirs {
		gw.put(t, k, "not stampfs's")
	}
	dir := t.TempDir()
	writeTree(t, dir, siteFiles)
	var stamps []string
	for i := range 4 {
		writeTree(t, dir, map[string]string{"js/app.js": fmt.Sprintf("console.log(%d)\n", i)})
		s, _ := gw.publishOK(t, "", "-to", "s3://"+gwBucket+"/static", "-keep", "1", "-grace", "0", dir)
		stamps = append(stamps, s)
	}
	keys := gw.keys(t, "")
	for _, k := range theirs {
		assert.Contains(t, keys, k, "never deleted")
	}
	for _, s := range stamps[:2] {
		for _, k := range keys {
			assert.False(t, strings.HasPrefix(k, "static/"+s), "%s of pruned %s", k, s)
		}
	}
	for _, s := range stamps[2:] {
		m := manifestAt(t, gw, "static/"+s+".json")
		for name := range m.Files {
			assert.Contains(t, keys, "static/"+s+"/"+name)
		}
	}
	assert.Equal(t, stamps[3], manifestAt(t, gw, "static/current.json").Stamp)
}

// TestPublishKilledResumes SIGKILLs a publish in the middle of its uploads
// and requires that current.json was not written, and that a rerun
// completes the same version without sending again what is in place.
func TestPublishKilledResumes(t *testing.T) {
	gw := startGateway(t)
	rec := gw.recorder(t)
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 400 {
		files[fmt.Sprintf("f/%03d.txt", i)] = fmt.Sprintf("file %d\n", i)
	}
	writeTree(t, dir, files)
	cmd := gw.publishCmd(t, rec.url, "-to", "s3://"+gwBucket+"/static", "-jobs", "2", dir)
	// Kill stampfs-publish, not the root command that runs it.
	cmd.Args[0] = filepath.Join(publishBin(t), "stampfs-publish")
	cmd.Path = cmd.Args[0]
	cmd.Args = append(cmd.Args[:1], cmd.Args[2:]...)
	var killed atomic.Bool
	started := make(chan struct{})
	rec.seen = func(n int) {
		if n == 150 && killed.CompareAndSwap(false, true) {
			<-started
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	require.NoError(t, cmd.Start())
	close(started)
	err := cmd.Wait()
	require.Error(t, err, "killed")
	require.True(t, killed.Load())
	rec.seen = nil
	rec.settle(t)

	keys := gw.keys(t, "")
	assert.NotContains(t, keys, "static/current.json", "current.json never names an incomplete version")
	require.NotEmpty(t, keys, "some objects were in place")
	require.Less(t, len(keys), 400)
	in := len(keys)

	stamp, summary := gw.publishOK(t, rec.url, "-to", "s3://"+gwBucket+"/static", dir)
	var uploaded, copied, skipped int
	_, err = fmt.Sscanf(summary[strings.LastIndex(summary, ": ")+2:], "%d uploaded, %d copied, %d skipped", &uploaded, &copied, &skipped)
	require.NoError(t, err, summary)
	// The gateway may still commit a request the killed client had sent
	// after the listing above: at least what was listed is skipped.
	assert.GreaterOrEqual(t, skipped, in, summary)
	assert.Equal(t, 400, uploaded+skipped, summary)
	assert.Positive(t, uploaded, summary)
	m := manifestAt(t, gw, "static/current.json")
	assert.Equal(t, stamp, m.Stamp)
	keys = gw.keys(t, "static/"+stamp+"/")
	assert.Len(t, keys, 400)
}

func TestPublishTwoAtOnce(t *testing.T) {
	gw := startGateway(t)
	dirs := []string{t.TempDir(), t.TempDir()}
	writeTree(t, dirs[0], siteFiles)
	writeTree(t, dirs[1], siteFiles)
	writeTree(t, dirs[1], map[string]string{"js/app.js": "two"})
	for i := range 100 {
		writeTree(t, dirs[i%2], map[string]string{fmt.Sprintf("n/%d.txt", i): fmt.Sprint(i)})
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i, dir := range dirs {
		wg.Go(func() {
			results[i] = run(t, gw.publishCmd(t, "", "-to", "s3://"+gwBucket+"/static", "-keep", "0", "-grace", "0", dir))
		})
	}
	wg.Wait()
	var stamps []string
	for _, r := range results {
		require.Equal(t, 0, r.status, r.stderr)
		stamps = append(stamps, strings.TrimSpace(r.stdout))
	}
	keys := gw.keys(t, "")
	cur := manifestAt(t, gw, "static/current.json").Stamp
	assert.Contains(t, stamps, cur)
	// The version current.json names is complete; so is the other, unless
	// the last publisher pruned it (-keep 0 -grace 0) after the switch.
	for _, s := range stamps {
		if s != cur && !slices.Contains(keys, "static/"+s+".json") {
			continue
		}
		m := manifestAt(t, gw, "static/"+s+".json")
		for name, f := range m.Files {
			o := gw.get(t, "static/"+s+"/"+name)
			assert.Equal(t, f.SHA256, sum(o.body), "%s/%s", s, name)
		}
	}
}

func TestPublishBadInput(t *testing.T) {
	gw := startGateway(t)
	dir := t.TempDir()
	writeTree(t, dir, siteFiles)
	to := "s3://" + gwBucket + "/static"

	t.Run("missing bucket", func(t *testing.T) {
		r := run(t, gw.publishCmd(t, "", "-to", "s3://nobucket/static", dir))
		assert.Equal(t, 1, r.status)
		assert.Equal(t, "stampfs publish: s3://nobucket/static: list static/: bucket \"nobucket\" does not exist: file does not exist", r.last())
	})
	t.Run("wrong credentials", func(t *testing.T) {
		cmd := gw.publishCmd(t, "", "-to", to, dir)
		cmd.Env = append(cmd.Env, "AWS_SECRET_ACCESS_KEY=wrong")
		r := run(t, cmd)
		assert.Equal(t, 1, r.status)
		assert.True(t, strings.HasPrefix(r.last(), "stampfs publish: s3://site/static: list static/: credentials refused (SignatureDoesNotMatch)"), r.stderr)
	})
	t.Run("endpoint down", func(t *testing.T) {
		r := run(t, gw.publishCmd(t, "http://"+freeAddr(t), "-to", to, dir))
		assert.Equal(t, 1, r.status)
		assert.Contains(t, r.stderr, "unreachable after 5 tries")
		assert.Contains(t, r.stderr, "connection refused")
		assert.Equal(t, 1, strings.Count(r.stderr, "stampfs publish: "), "one line")
	})
	t.Run("usage", func(t *testing.T) {
		r := run(t, gw.publishCmd(t, "", "-to", "gs://x", dir))
		assert.Equal(t, 2, r.status)
		assert.Contains(t, r.stderr, "stampfs publish: -to \"gs://x\": want s3://BUCKET")
	})
	t.Run("an upload that keeps failing", func(t *testing.T) {
		rec := gw.recorder(t)
		var tries atomic.Int32
		rec.fail = func(method, key string) int {
			if method == "PUT" && strings.HasSuffix(key, "/js/app.js") {
				tries.Add(1)
				return 500
			}
			return 0
		}
		r := run(t, gw.publishCmd(t, rec.url, "-to", "s3://"+gwBucket+"/failing", dir))
		assert.Equal(t, 1, r.status)
		assert.Regexp(t, `^stampfs publish: s3://site/failing: upload failing/[0-9a-f]{12}/js/app.js: .*StatusCode: 500.*$`, r.last())
		assert.EqualValues(t, 5, tries.Load(), "retried")
		assert.NotContains(t, gw.keys(t, "failing/"), "failing/current.json")
	})
	t.Run("an upload that fails twice", func(t *testing.T) {
		rec := gw.recorder(t)
		var tries atomic.Int32
		rec.fail = func(method, key string) int {
			if method == "PUT" && strings.HasSuffix(key, "/js/app.js") && tries.Add(1) <= 2 {
				return 503
			}
			return 0
		}
		gw.publishOK(t, rec.url, "-to", "s3://"+gwBucket+"/flaky", dir)
		assert.EqualValues(t, 3, tries.Load())
	})
	t.Run("a stamp published with other bytes", func(t *testing.T) {
		gw.publishOK(t, "", "-to", "s3://"+gwBucket+"/fixed", "-strategy", "fixed=v1", dir)
		before := gw.get(t, "fixed/current.json").body
		other := t.TempDir()
		writeTree(t, other, map[string]string{"js/app.js": "other"})
		r := run(t, gw.publishCmd(t, "", "-to", "s3://"+gwBucket+"/fixed", "-strategy", "fixed=v1", other))
		assert.Equal(t, 1, r.status)
		assert.Equal(t, "stampfs publish: s3://site/fixed: stamp v1 is already published with other bytes (js/app.js: other content); a stamp's bytes never change: file already exists", r.last())
		assert.Equal(t, before, gw.get(t, "fixed/current.json").body)
	})
	t.Run("other data in the way", func(t *testing.T) {
		gw.put(t, "theirs/current.json", "{}")
		r := run(t, gw.publishCmd(t, "", "-to", "s3://"+gwBucket+"/theirs", dir))
		assert.Equal(t, 1, r.status)
		assert.Contains(t, r.stderr, "theirs/current.json is not a stampfs manifest; refusing to overwrite it")
		assert.Equal(t, []string{"theirs/current.json"}, gw.keys(t, "theirs/"))
	})
}

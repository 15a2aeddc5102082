package publish

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampfs/stampfs"
)

// tree builds a version from name: content pairs, with the manifest URLs of
// a CDN that maps its root onto the bucket (prefix "/static/").
func tree(t *testing.T, scan *stampfs.ScanOptions, files map[string]string) *Version {
	t.Helper()
	mfs := fstest.MapFS{}
	for name, data := range files {
		mfs[name] = &fstest.MapFile{Data: []byte(data), Mode: 0o644}
	}
	var o stampfs.ScanOptions
	if scan != nil {
		o = *scan
	}
	o.Hash = true
	snap, err := stampfs.Scan(afero.FromIOFS{FS: mfs}, ".", &o)
	require.NoError(t, err)
	m, err := stampfs.NewManifest(mfs, snap, &stampfs.ManifestOptions{Prefix: "/static/", Base: "https://cdn.example.com"})
	require.NoError(t, err)
	return &Version{Manifest: m, FS: mfs, Files: snap.Files()}
}

var site = map[string]string{
	"css/site.css":    "body{color:red}",
	"css/site.css.gz": "gz-of-site.css",
	"css/site.css.br": "br-of-site.css",
	"js/app.js":       "console.log(1)",
	"img/a b.svg":     "<svg/>",
}

// with returns files with the changes applied; "" removes a name.
func with(files map[string]string, changes ...string) map[string]string {
	out := make(map[string]string, len(files))
	for k, v := range files {
		out[k] = v
	}
	for i := 0; i < len(changes); i += 2 {
		if changes[i+1] == "" {
			delete(out, changes[i])
		} else {
			out[changes[i]] = changes[i+1]
		}
	}
	return out
}

func publish(t *testing.T, b *memBucket, v *Version, opts *Options) Stats {
	t.Helper()
	o := Options{Prefix: "static", Now: func() time.Time { return b.now }}
	if opts != nil {
		o.Keep, o.Grace, o.Jobs = opts.Keep, opts.Grace, opts.Jobs
	}
	st, err := Publish(context.Background(), b, v, &o)
	require.NoError(t, err)
	return st
}

func TestPublishLayout(t *testing.T) {
	b := newMemBucket()
	v := tree(t, nil, site)
	s := v.Manifest.Stamp
	st := publish(t, b, v, nil)

	assert.Equal(t, []string{
		"static/" + s + ".json",
		"static/" + s + "/css/site.css",
		"static/" + s + "/css/site.css.br",
		"static/" + s + "/css/site.css.gz",
		"static/" + s + "/img/a b.svg",
		"static/" + s + "/js/app.js",
		"static/current.json",
	}, b.keys(), "keys are the names as stored, unescaped")
	assert.Equal(t, Stats{Objects: 5, Done: 5, Uploaded: 5, Bytes: int64(len("body{color:red}gz-of-site.cssbr-of-site.css<svg/>console.log(1)"))}, st)

	css := b.objects["static/"+s+"/css/site.css"]
	assert.Equal(t, ObjectMeta{ContentType: "text/css; charset=utf-8", CacheControl: CacheImmutable, SHA256: v.Manifest.Files["css/site.css"].SHA256}, css.meta)
	gz := b.objects["static/"+s+"/css/site.css.gz"]
	assert.Equal(t, "text/css; charset=utf-8", gz.meta.ContentType)
	assert.Equal(t, "gzip", gz.meta.ContentEncoding)
	assert.Equal(t, "br", b.objects["static/"+s+"/css/site.css.br"].meta.ContentEncoding)
	assert.Equal(t, "https://cdn.example.com/static/"+s+"/img/a%20b.svg", v.Manifest.Files["img/a b.svg"].URL)

	cur := b.objects["static/current.json"]
	assert.Equal(t, CacheNoCache, cur.meta.CacheControl)
	assert.Equal(t, "application/json", cur.meta.ContentType)
	assert.Equal(t, CacheImmutable, b.objects["static/"+s+".json"].meta.CacheControl)
	m, err := stampfs.ParseManifest(cur.data)
	require.NoError(t, err)
	assert.Equal(t, v.Manifest, m)

	log := b.writes()
	require.Len(t, log, 7)
	assert.Equal(t, "put static/"+s+".json", log[5], "the version's manifest after its objects")
	assert.Equal(t, "put static/current.json", log[6], "current.json last")
}

func TestRepublishUnchangedWritesNothing(t *testing.T) {
	b := newMemBucket()
	publish(t, b, tree(t, nil, site), nil)
	before := b.writes()
	b.tick(time.Minute)
	st := publish(t, b, tree(t, nil, site), nil)
	assert.Equal(t, before, b.writes())
	assert.Equal(t, Stats{Objects: 5, Done: 5, Skipped: 5}, st)
}

func TestChangedTreeCopiesUnchangedFiles(t *testing.T) {
	b := newMemBucket()
	v1 := tree(t, nil, site)
	publish(t, b, v1, nil)
	n := len(b.writes())
	b.tick(time.Minute)
	v2 := tree(t, nil, with(site, "js/app.js", "console.log(2)", "js/new.js", "x"))
	st := publish(t, b, v2, nil)
	s1, s2 := v1.Manifest.Stamp, v2.Manifest.Stamp
	assert.ElementsMatch(t, []string{
		"copy static/" + s1 + "/css/site.css static/" + s2 + "/css/site.css",
		"copy static/" + s1 + "/css/site.css.br static/" + s2 + "/css/site.css.br",
		"copy static/" + s1 + "/css/site.css.gz static/" + s2 + "/css/site.css.gz",
		"copy static/" + s1 + "/img/a b.svg static/" + s2 + "/img/a b.svg",
		"put static/" + s2 + "/js/app.js",
		"put static/" + s2 + "/js/new.js",
	}, b.writes()[n:n+6])
	assert.Equal(t, []string{"put static/" + s2 + ".json", "put static/current.json"}, b.writes()[n+6:])
	assert.Equal(t, Stats{Objects: 6, Done: 6, Uploaded: 2, Copied: 4, Bytes: int64(len("console.log(2)x"))}, st)
	assert.Equal(t, "gzip", b.objects["static/"+s2+"/css/site.css.gz"].meta.ContentEncoding, "a copy keeps its headers")
}

func TestSiblingWithOtherBytesIsUploaded(t *testing.T) {
	b := newMemBucket()
	v1 := tree(t, nil, site)
	publish(t, b, v1, nil)
	n := len(b.writes())
	b.tick(time.Minute)
	v2 := tree(t, nil, with(site, "css/site.css.gz", "recompressed"))
	st := publish(t, b, v2, nil)
	assert.Contains(t, b.writes()[n:], "put static/"+v2.Manifest.Stamp+"/css/site.css.gz")
	assert.Equal(t, 1, st.Uploaded)
	assert.Equal(t, 4, st.Copied)
}

func TestInterruptedPublishResumes(t *testing.T) {
	b := newMemBucket()
	v := tree(t, nil, site)
	s := v.Manifest.Stamp
	boom := errors.New("connection reset")
	b.failPut = func(key string) error {
		if strings.HasSuffix(key, "js/app.js") {
			return boom
		}
		return nil
	}
	_, err := Publish(context.Background(), b, v, &Options{Prefix: "static", Jobs: 1})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "upload static/"+s+"/js/app.js: ")
	assert.NotContains(t, b.keys(), "static/current.json", "current.json untouched")
	assert.NotContains(t, b.keys(), "static/"+s+".json")
	done := len(b.writes())
	require.Positive(t, done)

	b.failPut = nil
	st := publish(t, b, v, nil)
	assert.Equal(t, done, st.Skipped, "what the first run put is found by Head and skipped")
	assert.Equal(t, 5-done, st.Uploaded)
	assert.Contains(t, b.keys(), "static/current.json")
}

func TestRepublishCompletesAVersionAnInterruptedPruneLeft(t *testing.T) {
	b := newMemBucket()
	v := tree(t, nil, site)
	s := v.Manifest.Stamp
	publish(t, b, v, nil)
	// A prune deletes a version's objects before its manifest; killed in
	// between, it leaves a manifest whose objects are gone.
	require.NoError(t, b.Delete(context.Background(), "static/"+s+"/js/app.js", "static/"+s+"/css/site.css.br"))
	n := len(b.writes())
	st := publish(t, b, v, nil)
	assert.ElementsMatch(t, []string{"put static/" + s + "/css/site.css.br", "put static/" + s + "/js/app.js"}, b.writes()[n:])
	assert.Equal(t, Stats{Objects: 5, Done: 5, Uploaded: 2, Skipped: 3, Bytes: int64(len("br-of-site.cssconsole.log(1)"))}, st)
}

func TestStampPublishedWithOtherBytesIsRefused(t *testing.T) {
	b := newMemBucket()
	fixed := &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "v1"}
	publish(t, b, tree(t, fixed, site), nil)
	before := b.writes()
	_, err := Publish(context.Background(), b, tree(t, fixed, with(site, "js/app.js", "changed")), &Options{Prefix: "static"})
	require.ErrorIs(t, err, fs.ErrExist)
	assert.Contains(t, err.Error(), "stamp v1 is already published with other bytes (js/app.js: other content)")
	assert.Equal(t, before, b.writes(), "nothing written")
}

func TestForeignData(t *testing.T) {
	t.Run("an object in the way", func(t *testing.T) {
		b := newMemBucket()
		v := tree(t, nil, site)
		b.put("static/"+v.Manifest.Stamp+"/js/app.js", []byte("theirs"), ObjectMeta{})
		_, err := Publish(context.Background(), b, v, &Options{Prefix: "static"})
		require.ErrorIs(t, err, fs.ErrExist)
		assert.Contains(t, err.Error(), "static/"+v.Manifest.Stamp+"/js/app.js")
		assert.Empty(t, b.writes())
	})
	t.Run("a current.json of someone else", func(t *testing.T) {
		b := newMemBucket()
		b.put("static/current.json", []byte(`{"theirs":true}`), ObjectMeta{})
		_, err := Publish(context.Background(), b, tree(t, nil, site), &Options{Prefix: "static"})
		require.ErrorIs(t, err, fs.ErrExist)
		assert.Contains(t, err.Error(), "static/current.json is not a stampfs manifest")
		assert.Empty(t, b.writes())
	})
	t.Run("other data under PREFIX is never deleted", func(t *testing.T) {
		b := newMemBucket()
		theirs := []string{"static/robots.txt", "static/old.json", "static/abc/def.css", "static/abc.json", "staticx/a"}
		for _, k := range theirs {
			b.put(k, []byte("theirs"), ObjectMeta{})
		}
		for i := range 4 {
			b.tick(2 * time.Hour)
			publish(t, b, tree(t, nil, with(site, "js/app.js", fmt.Sprint(i))), &Options{Keep: -1, Grace: -1})
		}
		for _, k := range theirs {
			assert.Contains(t, b.keys(), k)
		}
	})
}

func TestBadInput(t *testing.T) {
	b := newMemBucket()
	_, err := Publish(context.Background(), b, tree(t, &stampfs.ScanOptions{Strategy: stampfs.Fixed, Version: "current"}, site), nil)
	assert.ErrorIs(t, err, fs.ErrInvalid)
	for _, prefix := range []string{"/static", "static/", "a//b", "../a"} {
		_, err := Publish(context.Background(), b, tree(t, nil, site), &Options{Prefix: prefix})
		assert.ErrorIs(t, err, fs.ErrInvalid, prefix)
	}
	assert.Empty(t, b.writes())
}

func TestRetentionInBucket(t *testing.T) {
	b := newMemBucket()
	var stamps []string
	for i := range 5 {
		b.tick(2 * time.Hour)
		v := tree(t, nil, with(site, "js/app.js", fmt.Sprint(i)))
		stamps = append(stamps, v.Manifest.Stamp)
		publish(t, b, v, &Options{Keep: 1})
	}
	var versions []string
	for _, k := range b.keys() {
		if strings.HasSuffix(k, ".json") && k != "static/current.json" {
			versions = append(versions, strings.TrimSuffix(strings.TrimPrefix(k, "static/"), ".json"))
		}
	}
	assert.ElementsMatch(t, stamps[3:], versions, "the current version and the newest other")
	for _, k := range b.keys() {
		assert.True(t, k == "static/current.json" || strings.HasPrefix(k, "static/"+stamps[3]) || strings.HasPrefix(k, "static/"+stamps[4]), k)
	}
	log := b.writes()
	i := slices.Index(log, "delete static/"+stamps[2]+"/js/app.js")
	j := slices.Index(log, "delete static/"+stamps[2]+".json")
	assert.True(t, i >= 0 && j > i, "a pruned version's manifest goes after its objects")
}

func TestPlanPrune(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	version := func(stamp string, age time.Duration, names ...string) *published {
		m := &stampfs.Manifest{Stamp: stamp, Files: map[string]stampfs.ManifestFile{}}
		for _, n := range names {
			m.Files[n] = stampfs.ManifestFile{Encodings: []string{}}
		}
		return &published{manifest: m, modified: now.Add(-age)}
	}
	tests := []struct {
		name   string
		keep   int
		grace  time.Duration
		pruned []string
	}{
		{"keep 2, grace 1h", 2, time.Hour, []string{"c", "d"}},
		{"keep 0, grace 1h", 0, time.Hour, []string{"b", "c", "d"}},
		{"keep 0, grace 0", 0, 0, []string{"a", "b", "c", "d"}},
		{"keep 9", 9, 0, nil},
		{"grace 1 day", 0, 24 * time.Hour, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			versions := []*published{
				version("cur", 10*time.Hour, "a.css"),
				version("old", 9*time.Hour, "a.css"), // named by current.json now
				version("a", time.Minute, "a.css"),
				version("b", 2*time.Hour, "a.css"),
				version("c", 3*time.Hour, "a.css"),
				version("d", 4*time.Hour, "a.css"),
			}
			pruned, keys := planPrune("p", versions, []string{"cur", "old"}, now, tt.keep, tt.grace)
			var got, want []string
			for _, p := range pruned {
				got = append(got, p.manifest.Stamp)
			}
			for _, s := range tt.pruned {
				want = append(want, "p/"+s+"/a.css")
			}
			assert.Equal(t, tt.pruned, got)
			assert.Equal(t, want, keys)
		})
	}
}

func TestPlanPruneOrdersVersionsOfTheSameSecond(t *testing.T) {
	sec := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	v := func(stamp string, written time.Duration) *published {
		return &published{manifest: &stampfs.Manifest{Stamp: stamp, Files: map[string]stampfs.ManifestFile{"a": {}}}, modified: sec, written: sec.Add(written)}
	}
	// LastModified has whole seconds: the written metadata says which
	// came last.
	pruned, _ := planPrune("", []*published{v("zzz", 1), v("aaa", 3), v("mmm", 2), v("cur", 4)}, []string{"cur"}, sec.Add(time.Hour), 1, 0)
	var got []string
	for _, p := range pruned {
		got = append(got, p.manifest.Stamp)
	}
	assert.Equal(t, []string{"mmm", "zzz"}, got)
}

func TestPlanPruneKeepsKeysARetainedVersionLists(t *testing.T) {
	m := func(stamp string) *published {
		return &published{manifest: &stampfs.Manifest{Stamp: stamp, Files: map[string]stampfs.ManifestFile{
			"a.css": {Encodings: []string{"br", "gzip"}},
		}}}
	}
	// Two manifests that list the same keys (a hand-edited bucket): the
	// pruned one must not take the retained one's objects.
	odd := m("x")
	odd.manifest.Stamp = "y"
	_, keys := planPrune("", []*published{m("y"), odd}, []string{"y"}, time.Now(), 0, 0)
	assert.Empty(t, keys)
	_, keys = planPrune("", []*published{m("y"), m("z")}, []string{"y"}, time.Now(), 0, 0)
	assert.Equal(t, []string{"z/a.css", "z/a.css.br", "z/a.css.gz"}, keys)
}

func TestPruneFailureSaysTheVersionIsCurrent(t *testing.T) {
	b := newMemBucket()
	publish(t, b, tree(t, nil, site), nil)
	b.tick(2 * time.Hour)
	b.failDelete = errors.New("access denied")
	v := tree(t, nil, with(site, "js/app.js", "2"))
	_, err := Publish(context.Background(), b, v, &Options{Prefix: "static", Keep: -1, Grace: -1, Now: func() time.Time { return b.now }})
	require.ErrorIs(t, err, b.failDelete)
	assert.Contains(t, err.Error(), v.Manifest.Stamp+" is current, but pruning old versions failed: delete static/")
	m, err := stampfs.ParseManifest(b.objects["static/current.json"].data)
	require.NoError(t, err)
	assert.Equal(t, v.Manifest.Stamp, m.Stamp)
}

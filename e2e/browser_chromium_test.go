package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// browserDumpDOM loads url in headless Chromium and returns the DOM it
// serialises after the load event: what a user's browser built, with every
// script that ran already applied.
func browserDumpDOM(t *testing.T, chromium, url string) string {
	t.Helper()
	profile, err := os.MkdirTemp("", "stampfs-chromium-")
	require.NoError(t, err)
	t.Cleanup(func() {
		// Chromium's helpers may still be writing for a moment after it exits.
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove Chromium profile %s", profile)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium --dump-dom %s: %s", url, stderr.String())
	require.NotEmpty(t, out, "chromium printed no DOM for %s; stderr: %s", url, stderr.String())
	return string(out)
}

// browserBodyData returns the data-* attributes of the <body> tag of a DOM
// dump, without the "data-" prefix.
func browserBodyData(t *testing.T, dom string) map[string]string {
	t.Helper()
	body := regexp.MustCompile(`<body([^>]*)>`).FindStringSubmatch(dom)
	require.NotNil(t, body, "no <body> in DOM:\n%s", dom)
	data := map[string]string{}
	for _, m := range regexp.MustCompile(`\sdata-([a-z0-9-]+)="([^"]*)"`).FindAllStringSubmatch(body[1], -1) {
		data[m[1]] = m[2]
	}
	return data
}

// browserTag is one <script src> or <link href> of a DOM dump.
type browserTag struct {
	URL       string // src or href, as written
	Integrity string // the integrity attribute, "" when absent
}

// browserAssets returns the external scripts and stylesheets of a DOM dump.
func browserAssets(dom string) (scripts, styles []browserTag) {
	attr := func(tag, name string) string {
		m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return ""
		}
		return strings.ReplaceAll(m[1], "&amp;", "&")
	}
	for _, tag := range regexp.MustCompile(`<script\b[^>]*>`).FindAllString(dom, -1) {
		if src := attr(tag, "src"); src != "" {
			scripts = append(scripts, browserTag{URL: src, Integrity: attr(tag, "integrity")})
		}
	}
	for _, tag := range regexp.MustCompile(`<link\b[^>]*>`).FindAllString(dom, -1) {
		if attr(tag, "rel") == "stylesheet" {
			styles = append(styles, browserTag{URL: attr(tag, "href"), Integrity: attr(tag, "integrity")})
		}
	}
	return scripts, styles
}

// browserStartServe runs `stampfs serve -addr ADDR args...` until the test
// ends and returns its base URL.
func browserStartServe(t *testing.T, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(stampfsBin(t), append([]string{"serve", "-addr", addr}, args...)...)
	return startServer(t, cmd, addr, syscall.SIGTERM)
}

// browserAbs resolves a root-relative URL of a page against base.
func browserAbs(base, ref string) string {
	if strings.HasPrefix(ref, "/") {
		return base + ref
	}
	return ref
}

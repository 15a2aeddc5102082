package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"text/template"

	"github.com/stampfs/stampfs"
)

// storeName is the version store's directory inside DIR, as link makes it.
const storeName = stampfs.DefaultStore

// runNginx prints nginx location blocks that serve DIR at a URL prefix:
// stamped paths straight from the version store, unstamped ones from the
// live tree, following no symbolic link below DIR.
func runNginx(args []string, stdout, stderr io.Writer) int {
	var brotli *bool
	c, f, status := parseFront(args, stdout, stderr, frontCommand{
		name:     "nginx",
		synopsis: "stampfs nginx [-prefix /static/] [-store DIR] [-brotli] DIR",
		notes:    "Prints location blocks to paste into (or include in) an nginx server block.",
		what:     "an nginx configuration",
		flags: func(fl *flag.FlagSet) {
			brotli = fl.Bool("brotli", false, "serve .br siblings too (brotli_static: needs nginx built with ngx_brotli)")
		},
	})
	if status >= 0 {
		return status
	}
	if err := writeNginx(stdout, f, *brotli); err != nil {
		return c.fail(fmt.Errorf("write: %w", err))
	}
	return exitOK
}

// frontCommand describes nginx or apache to parseFront.
type frontCommand struct {
	name, synopsis, notes string
	what                  string                 // the configuration, for frontDir's errors
	flags                 func(fl *flag.FlagSet) // defines the command's own flags
}

// frontArgs are the parsed arguments shared by nginx and apache.
type frontArgs struct {
	dir    string // absolute, links kept
	store  string // absolute, links kept: dir/.stampfs unless -store
	prefix string
}

// storeInDir reports whether the store is below DIR, so that one
// "no links below DIR" rule covers both.
func (f frontArgs) storeInDir() bool {
	return strings.HasPrefix(f.store, f.dir+"/")
}

// parseFront parses -prefix, -store, the command's own flags and the one
// DIR of nginx or apache, and checks them. It prints errors on stderr and
// returns a status of exitOK (for -h), exitUsage or exitError when the
// command must stop, -1 otherwise. A DIR with no version store yet gets a
// note on stderr.
func parseFront(args []string, stdout, stderr io.Writer, fc frontCommand) (*cli, frontArgs, int) {
	c := newCLI(fc.name, fc.synopsis, fc.notes, stdout, stderr)
	prefix := c.fl.String("prefix", "/static/", "the URL path DIR is served at; starts and ends with /")
	store := c.fl.String("store", "", "the version store, as given to stampfs link (default DIR/"+storeName+")")
	if fc.flags != nil {
		fc.flags(c.fl)
	}
	pos, status := c.parse(args)
	if status >= 0 {
		return c, frontArgs{}, status
	}
	if len(pos) != 1 {
		return c, frontArgs{}, c.usageError("want exactly one DIR, got %d arguments", len(pos))
	}
	if err := checkFrontPrefix(*prefix); err != nil {
		return c, frontArgs{}, c.usageError("%v", err)
	}
	c.dirs = pos
	dir, err := frontDir(pos[0], fc.what)
	if err != nil {
		return c, frontArgs{}, c.fail(err)
	}
	f := frontArgs{dir: dir, store: dir + "/" + storeName, prefix: *prefix}
	if *store != "" {
		c.dirs = append(c.dirs, *store)
		if f.store, err = frontDir(*store, fc.what); err != nil {
			return c, frontArgs{}, c.fail(err)
		}
	}
	if fi, err := os.Stat(f.store); err != nil || !fi.IsDir() {
		c.say(fmt.Sprintf("note: no version store %s yet: stamped URLs answer 404 until \"stampfs link\" publishes one; no reload is needed then", f.store))
	}
	return c, f, -1
}

// prefixSegment is one segment of a -prefix: no dot first, nothing a URL
// would escape or a server configuration or regular expression read
// specially.
var prefixSegment = regexp.MustCompile(`^[0-9A-Za-z_~-][0-9A-Za-z._~-]*$`)

// prefixRule is the rule checkFrontPrefix enforces, as its errors state it.
const prefixRule = "want a path that starts and ends with /, made of segments of [0-9A-Za-z._~-] not starting with a dot"

// checkFrontPrefix checks a -prefix value of nginx and apache: it must
// start and end with a slash and need no escaping in a URL, a configuration
// or a regular expression.
func checkFrontPrefix(prefix string) error {
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("-prefix %q: %s", prefix, prefixRule)
	}
	if prefix == "/" {
		return nil
	}
	for _, seg := range strings.Split(prefix[1:len(prefix)-1], "/") {
		if !prefixSegment.MatchString(seg) {
			return fmt.Errorf("-prefix %q: segment %q: %s", prefix, seg, prefixRule)
		}
	}
	return nil
}

// frontDir returns the absolute, cleaned path of the directory dir, with
// its symbolic links kept: a front server opens DIR by that name on every
// request, so a "current -> releases/N" link in it takes effect without a
// reload. what names the configuration, for the error about characters it
// cannot hold.
func frontDir(dir, what string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", &os.PathError{Op: "open", Path: dir, Err: syscall.ENOTDIR}
	}
	if strings.ContainsAny(abs, "\"\\$%") || strings.ContainsFunc(abs, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", &os.PathError{Op: "open", Path: abs, Err: fmt.Errorf(`a path with ", \, $, %% or control characters cannot go into %s`, what)}
	}
	return abs, nil
}

// rawCheck matches a request line's path (not its query) holding an
// escaped slash, dot or backslash, or a dot segment: nginx decodes and
// normalises those away before it matches locations. It runs on every
// request, so it is linear: possessive runs of plain characters, and a
// look at each "%" and "/" only.
const rawCheck = `^[^?%/]*+(?:(?:%(?!2[FfEe]|5[Cc])|/(?![.]|%2[Ee]))[^?%/]*+)*+[%/]`

// stampPattern is vfs.ValidSegment as a regular expression.
const stampPattern = `[0-9A-Za-z_-][0-9A-Za-z._-]{0,63}`

// locationSuffix turns a prefix into the suffix of the named locations of
// its block, so that blocks for several prefixes can share a server.
func locationSuffix(prefix string) string {
	name := strings.Trim(strings.NewReplacer("/", "_", ".", "_", "~", "_", "-", "_").Replace(prefix), "_")
	if name != "" {
		name = "_" + name
	}
	return name
}

func writeNginx(w io.Writer, f frontArgs, brotli bool) error {
	suffix, prefix := locationSuffix(f.prefix), f.prefix
	// Links are refused below from=: DIR, or the store itself when it
	// lies elsewhere.
	storeFrom := f.dir
	if !f.storeInDir() {
		storeFrom = f.store
	}
	return nginxTemplate.Execute(w, map[string]any{
		"Dir":        f.dir,
		"Store":      f.store,
		"StoreFrom":  storeFrom,
		"Prefix":     prefix,
		"StampRegex": "^" + regexp.QuoteMeta(prefix) + "(?<stampfs_rest>(?<stampfs_stamp>" + stampPattern + ")/(?<stampfs_name>.+))$",
		"StripRegex": "^" + regexp.QuoteMeta(prefix) + "(.*)$",
		"RawCheck":   rawCheck,
		"Live":       "@stampfs_live" + suffix,
		"NotFound":   "@stampfs_404" + suffix,
		"NotAllowed": "@stampfs_405" + suffix,
		"Brotli":     brotli,
		"OpenCache":  "open_file_cache max=10000 inactive=60s",
		"CacheValid": "10s",
	})
}

// nginxTemplate is the configuration. Every location repeats its headers:
// nginx inherits add_header only into locations that set none; "methods"
// and "precompressed" are the blocks several locations share, the first
// indented by its argument. The method
// and escape checks use regular expressions, which reset numbered
// captures, so the stamped location names its captures.
var nginxTemplate = template.Must(template.New("nginx").Parse(`
{{- define "methods"}}{{.}}if ($request_method !~ ^(?:GET|HEAD)$) {
{{.}}    add_header Allow "GET, HEAD" always;
{{.}}    add_header X-Content-Type-Options "nosniff" always;
{{.}}    return 405;
{{.}}}
{{end}}
{{- define "precompressed"}}    gzip_static on;
{{- if .Brotli}}
    brotli_static on;
{{- end}}
    gzip_vary on;
    log_not_found off;
    recursive_error_pages on;
{{end -}}
# stampfs: serve {{.Dir}} at {{.Prefix}}
# Paste into (or include in) a server { } block; generate once: "stampfs link"
# publishes new stamps, and they need no reload.
#   {{.Prefix}}<stamp>/<file>  {{.Store}}/<stamp>/<file>: immutable for a year
#   {{.Prefix}}<file>          {{.Dir}}/<file>: no-cache (caches revalidate by ETag)
#   anything else (unknown or pruned stamps, dot paths, directories, links,
#   escaped slashes or dots, backslashes): 404, no-store; methods other than
#   GET and HEAD: 405. No symbolic link below {{.Dir}} is followed.
location ^~ {{.Prefix}} {
    alias "{{.Dir}}/";
    disable_symlinks on "from={{.Dir}}";
{{template "precompressed" .}}    error_page 403 404 = {{.NotFound}};
{{template "methods" "    "}}    if ($request_uri ~ "{{.RawCheck}}") {
        return 404;
    }
    if (-d $request_filename) {
        return 404;
    }
    add_header Cache-Control "no-cache";
    add_header X-Content-Type-Options "nosniff" always;
    location ~ "/\.|\\\\|/$" {
{{template "methods" "        "}}        return 404;
    }
    location ~ "{{.StampRegex}}" {
        alias "{{.Store}}/$stampfs_stamp/$stampfs_name";
{{- if ne .StoreFrom .Dir}}
        disable_symlinks on "from={{.StoreFrom}}";
{{- end}}
        # Versions are never written again: their open files may be cached.
        {{.OpenCache}};
        open_file_cache_valid {{.CacheValid}};
        open_file_cache_errors on;
        # Not in a version: try the live tree, which checks the method.
        error_page 403 404 = {{.Live}};
        # A version's file: nginx refuses other methods itself, with no
        # regular expression on this hot path.
        error_page 405 = {{.NotAllowed}};
        if ($request_uri ~ "{{.RawCheck}}") {
            error_page 404 = {{.NotFound}};
            return 404;
        }
        if (-d $request_filename) {
            error_page 404 = {{.NotFound}};
            return 404;
        }
        add_header Cache-Control "public, max-age=31536000, immutable";
        add_header X-Content-Type-Options "nosniff" always;
    }
}
location {{.Live}} {
    root "{{.Dir}}";
    disable_symlinks on "from={{.Dir}}";
{{template "precompressed" .}}    error_page 403 404 = {{.NotFound}};
{{template "methods" "    "}}    if (-d "{{.Dir}}/$stampfs_rest") {
        return 404;
    }
    rewrite "{{.StripRegex}}" /$1 break;
    add_header Cache-Control "no-cache";
    add_header X-Content-Type-Options "nosniff" always;
}
location {{.NotAllowed}} {
    add_header Allow "GET, HEAD" always;
    add_header X-Content-Type-Options "nosniff" always;
    return 405;
}
location {{.NotFound}} {
    add_header Cache-Control "no-store" always;
    add_header X-Content-Type-Options "nosniff" always;
    return 404;
}
`))

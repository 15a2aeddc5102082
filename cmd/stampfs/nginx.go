package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"text/template"
)

// runNginx prints nginx location blocks that serve DIR at a URL prefix
// through the stamp links that link makes.
func runNginx(args []string, stdout, stderr io.Writer) int {
	c := newCLI("nginx", "stampfs nginx [-prefix /static/] DIR",
		"Prints location blocks to paste into an nginx server block.", stdout, stderr)
	prefix := c.fl.String("prefix", "/static/", "the URL path DIR is served at")
	pos, status := c.parse(args)
	if status >= 0 {
		return status
	}
	if len(pos) != 1 {
		return c.usageError("want exactly one DIR, got %d arguments", len(pos))
	}
	p, err := nginxPrefix(*prefix)
	if err != nil {
		return c.usageError("%v", err)
	}
	c.dirs = pos
	dir, err := nginxDir(pos[0])
	if err != nil {
		return c.fail(err)
	}
	if err := writeNginx(stdout, dir, p); err != nil {
		return c.fail(fmt.Errorf("write: %w", err))
	}
	return exitOK
}

// prefixSegment is one segment of a -prefix: no dot first, nothing nginx or
// a regular expression would read specially.
var prefixSegment = regexp.MustCompile(`^[0-9A-Za-z_~-][0-9A-Za-z._~-]*$`)

// nginxPrefix checks a -prefix value and returns it with a trailing slash.
func nginxPrefix(prefix string) (string, error) {
	if !strings.HasPrefix(prefix, "/") {
		return "", fmt.Errorf("-prefix %q: want a path starting with /", prefix)
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if prefix == "/" {
		return prefix, nil
	}
	for _, seg := range strings.Split(prefix[1:len(prefix)-1], "/") {
		if !prefixSegment.MatchString(seg) {
			return "", fmt.Errorf("-prefix %q: segment %q: want [0-9A-Za-z._~-], not starting with a dot", prefix, seg)
		}
	}
	return prefix, nil
}

// nginxDir returns the absolute path of the directory dir with every
// symbolic link resolved, as nginx's $realpath_root reports it.
func nginxDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", &os.PathError{Op: "nginx", Path: dir, Err: syscall.ENOTDIR}
	}
	if strings.ContainsAny(real, "\"\\$") || strings.ContainsFunc(real, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", &os.PathError{Op: "nginx", Path: real, Err: errors.New(`a path with ", \, $ or control characters cannot go into an nginx configuration`)}
	}
	return real, nil
}

// stampPattern is vfs.ValidSegment as a regular expression.
const stampPattern = `[0-9A-Za-z_-][0-9A-Za-z._-]{0,63}`

func writeNginx(w io.Writer, dir, prefix string) error {
	name := strings.Trim(strings.NewReplacer("/", "_", ".", "_", "~", "_", "-", "_").Replace(prefix), "_")
	if name != "" {
		name = "_" + name
	}
	internal := "/_stampfs" + prefix
	return nginxTemplate.Execute(w, map[string]string{
		"Dir":           dir,
		"Prefix":        prefix,
		"Internal":      internal,
		"InternalRegex": "^" + regexp.QuoteMeta(internal) + "(" + stampPattern + ")/((?:[^./][^/]*/)*[^./][^/]*)$",
		"NotFound":      "@stampfs_not_found" + name,
	})
}

var nginxTemplate = template.Must(template.New("nginx").Parse(`# stampfs: serve {{.Dir}} at {{.Prefix}}
# Paste into a server { } block; "stampfs link {{.Dir}}" makes the stamp links.
#   {{.Prefix}}<stamp>/<file>  through the link <stamp> -> .: immutable for a year
#   {{.Prefix}}<file>          no-cache: caches revalidate by ETag
#   anything else (dot files, directories, other links, missing): 404, no-store
location ^~ {{.Prefix}} {
    alias "{{.Dir}}/";
    # Real files only here: a path through a link fails and goes to the
    # stamped location below.
    disable_symlinks on;
    log_not_found off;
    add_header Cache-Control "no-cache";
    recursive_error_pages on;
    error_page 403 404 = /_stampfs$uri;
    location ~ "/\.|/$" {
        return 404;
    }
}
location ^~ {{.Internal}} {
    internal;
    location ~ "{{.InternalRegex}}" {
        alias "{{.Dir}}/$1/$2";
        # Only the stamp link itself may be a link, and it must lead back
        # to the directory.
        disable_symlinks on "from={{.Dir}}/$1";
        if ($realpath_root != "{{.Dir}}/$2") {
            return 404;
        }
        add_header Cache-Control "public, max-age=31536000, immutable";
        error_page 403 404 = {{.NotFound}};
    }
    add_header Cache-Control "no-store" always;
    return 404;
}
location {{.NotFound}} {
    add_header Cache-Control "no-store" always;
    return 404;
}
`))

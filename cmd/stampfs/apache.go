package main

import (
	"fmt"
	"io"
	"regexp"
	"text/template"
)

// runApache prints Apache 2.4 directives for a <VirtualHost> that serve DIR
// at a URL prefix as nginx's blocks do: stamped paths straight from the
// version store, unstamped ones from the live tree, no symbolic link below
// DIR followed.
func runApache(args []string, stdout, stderr io.Writer) int {
	c, f, status := parseFront(args, stdout, stderr, frontCommand{
		name:     "apache",
		synopsis: "stampfs apache [-prefix /static/] [-store DIR] DIR",
		notes:    "Prints directives to paste into (or Include in) an Apache 2.4 <VirtualHost>;\nthey need mod_rewrite, mod_headers, mod_mime and mod_authz_core.",
		what:     "an Apache configuration",
	})
	if status >= 0 {
		return status
	}
	p := "^" + regexp.QuoteMeta(f.prefix)
	err := apacheTemplate.Execute(stdout, map[string]any{
		"Dir":        f.dir,
		"Store":      f.store,
		"StoreApart": !f.storeInDir(),
		"Prefix":     f.prefix,
		"P":          p,
		"Stamp":      p + "(" + stampPattern + ")/(.+)$",
	})
	if err != nil {
		return c.fail(fmt.Errorf("write: %w", err))
	}
	return exitOK
}

// apacheTemplate is the configuration. mod_rewrite maps the decoded path
// onto a file: a version's file when it exists (its .br or .gz sibling
// first, when the client accepts that encoding), else the live tree's. A
// trailing "?" with QSL keeps a "?" in a file name from being read as a
// query string.
var apacheTemplate = template.Must(template.New("apache").Parse(`
{{- define "directory"}}<Directory "{{.}}">
    # No symbolic link is followed below it. Links in its own path
    # (current -> releases/N) are, where the directories above allow it
    # (Debian's <Directory /> has Options FollowSymLinks).
    Options None
    AllowOverride None
    Require all granted
    <IfModule dir_module>
        DirectorySlash Off
    </IfModule>
    # a.css.gz is a.css with Content-Encoding: gzip.
    RemoveType .gz .br
    AddEncoding gzip .gz
    AddEncoding br .br
</Directory>
{{- end -}}
# stampfs: serve {{.Dir}} at {{.Prefix}}
# Paste into (or Include in) a <VirtualHost>; needs mod_rewrite, mod_headers,
# mod_mime, mod_authz_core. Generate once: "stampfs link" publishes new stamps,
# and they need no reload.
#   {{.Prefix}}<stamp>/<file>  {{.Store}}/<stamp>/<file>: immutable for a year
#   {{.Prefix}}<file>          {{.Dir}}/<file>: no-cache (caches revalidate by ETag)
#   anything else (unknown or pruned stamps, dot paths, directories, links,
#   escaped slashes or dots, backslashes): 404, no-store (403 for a path
#   through a link deeper in DIR, which Apache refuses itself); methods other
#   than GET and HEAD: 405. No symbolic link below {{.Dir}} is followed.
RewriteEngine On
RewriteCond "%{REQUEST_METHOD}" "!^(?:GET|HEAD)$"
RewriteRule "{{.P}}" - [R=405,L]
RewriteRule "{{.P}}(?:.*/)?(?:\.|$)" - [R=404,L]
RewriteRule "{{.P}}.*\\" - [R=404,L]
RewriteCond "%{THE_REQUEST}" "^\S+\s[^?\s]*(?:%2[Ff]|%5[Cc]|/(?:\.|%2[Ee]))"
RewriteRule "{{.P}}" - [R=404,L]
RewriteCond "%{HTTP:Accept-Encoding}" "(?:^|,)\s*br\s*(?:,|$|;\s*q\s*=\s*(?:1|0?\.0*[1-9]))"
RewriteCond "{{.Store}}/$1/$2.br" -f
RewriteRule "{{.Stamp}}" "{{.Store}}/$1/$2.br?" [L,QSL,UnsafeAllow3F,E=STAMPFS_STAMPED:1]
RewriteCond "%{HTTP:Accept-Encoding}" "(?:^|,)\s*gzip\s*(?:,|$|;\s*q\s*=\s*(?:1|0?\.0*[1-9]))"
RewriteCond "{{.Store}}/$1/$2.gz" -f
RewriteRule "{{.Stamp}}" "{{.Store}}/$1/$2.gz?" [L,QSL,UnsafeAllow3F,E=STAMPFS_STAMPED:1]
RewriteCond "{{.Store}}/$1/$2" -f
RewriteRule "{{.Stamp}}" "{{.Store}}/$1/$2?" [L,QSL,UnsafeAllow3F,E=STAMPFS_STAMPED:1]
RewriteCond "{{.Dir}}/$1" -l
RewriteRule "{{.P}}([^/]+)/" - [R=404,L]
RewriteCond "{{.Dir}}/$1" -l [OR]
RewriteCond "{{.Dir}}/$1" -d
RewriteRule "{{.P}}(.*)$" - [R=404,L]
RewriteCond "%{HTTP:Accept-Encoding}" "(?:^|,)\s*br\s*(?:,|$|;\s*q\s*=\s*(?:1|0?\.0*[1-9]))"
RewriteCond "{{.Dir}}/$1.br" -f
RewriteRule "{{.P}}(.*)$" "{{.Dir}}/$1.br?" [L,QSL,UnsafeAllow3F]
RewriteCond "%{HTTP:Accept-Encoding}" "(?:^|,)\s*gzip\s*(?:,|$|;\s*q\s*=\s*(?:1|0?\.0*[1-9]))"
RewriteCond "{{.Dir}}/$1.gz" -f
RewriteRule "{{.P}}(.*)$" "{{.Dir}}/$1.gz?" [L,QSL,UnsafeAllow3F]
RewriteRule "{{.P}}(.*)$" "{{.Dir}}/$1?" [L,QSL,UnsafeAllow3F]
{{template "directory" .Dir}}
{{- if .StoreApart}}
{{template "directory" .Store}}
{{- end}}
# At the server level, not in <Location>: Apache skips <Location> headers
# when it refuses a link.
Header always set X-Content-Type-Options "nosniff" "expr=%{REQUEST_URI} =~ m#{{.P}}#"
Header always set Cache-Control "no-store" "expr=%{REQUEST_STATUS} -ge 400 && %{REQUEST_URI} =~ m#{{.P}}#"
Header always set Allow "GET, HEAD" "expr=%{REQUEST_STATUS} == 405 && %{REQUEST_URI} =~ m#{{.P}}#"
Header set Cache-Control "public, max-age=31536000, immutable" "expr=-n reqenv('STAMPFS_STAMPED') && %{REQUEST_URI} =~ m#{{.P}}#"
Header set Cache-Control "no-cache" "expr=-z reqenv('STAMPFS_STAMPED') && %{REQUEST_URI} =~ m#{{.P}}#"
Header merge Vary "Accept-Encoding" "expr=%{REQUEST_URI} =~ m#{{.P}}#"
`))

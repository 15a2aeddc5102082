package main

import (
	"errors"
	"flag"
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
	fl := flag.NewFlagSet("stampfs apache", flag.ContinueOnError)
	fl.SetOutput(stderr)
	prefix := fl.String("prefix", "/static/", "the URL path DIR is served at; starts and ends with /")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: stampfs apache [-prefix /static/] DIR")
		fl.PrintDefaults()
		fmt.Fprintln(stderr, "\nPrints directives to paste into (or Include in) an Apache 2.4 <VirtualHost>;\nthey need mod_rewrite, mod_headers, mod_mime and mod_authz_core.")
	}
	if err := fl.Parse(args); errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "stampfs apache: "+format+"\n", a...)
		fl.Usage()
		return exitUsage
	}
	if fl.NArg() != 1 {
		return usageErr("want exactly one DIR, got %d arguments", fl.NArg())
	}
	if err := checkFrontPrefix(*prefix); err != nil {
		return usageErr("%v", err)
	}
	dir, err := frontDir(fl.Arg(0), "an Apache configuration")
	if err != nil {
		fmt.Fprintf(stderr, "stampfs apache: %v\n", err)
		return exitError
	}
	warnNoStore(stderr, "apache", dir)
	p := "^" + regexp.QuoteMeta(*prefix)
	err = apacheTemplate.Execute(stdout, map[string]string{
		"Dir":    dir,
		"Store":  dir + "/" + storeName,
		"Prefix": *prefix,
		"P":      p,
		"Stamp":  p + "(" + stampPattern + ")/(.+)$",
	})
	if err != nil {
		fmt.Fprintf(stderr, "stampfs apache: %v\n", err)
		return exitError
	}
	return exitOK
}

// apacheTemplate is the configuration. mod_rewrite maps the decoded path
// onto a file: a version's file when it exists (its .br or .gz sibling
// first, when the client accepts that encoding), else the live tree's. A
// trailing "?" with QSL keeps a "?" in a file name from being read as a
// query string.
var apacheTemplate = template.Must(template.New("apache").Parse(`# stampfs: serve {{.Dir}} at {{.Prefix}}
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
<Directory "{{.Dir}}">
    # No symbolic link is followed below DIR. Links in DIR's own path
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
# At the server level, not in <Location>: Apache skips <Location> headers
# when it refuses a link.
Header always set X-Content-Type-Options "nosniff" "expr=%{REQUEST_URI} =~ m#{{.P}}#"
Header always set Cache-Control "no-store" "expr=%{REQUEST_STATUS} -ge 400 && %{REQUEST_URI} =~ m#{{.P}}#"
Header always set Allow "GET, HEAD" "expr=%{REQUEST_STATUS} == 405 && %{REQUEST_URI} =~ m#{{.P}}#"
Header set Cache-Control "public, max-age=31536000, immutable" "expr=-n reqenv('STAMPFS_STAMPED') && %{REQUEST_URI} =~ m#{{.P}}#"
Header set Cache-Control "no-cache" "expr=-z reqenv('STAMPFS_STAMPED') && %{REQUEST_URI} =~ m#{{.P}}#"
Header merge Vary "Accept-Encoding" "expr=%{REQUEST_URI} =~ m#{{.P}}#"
`))

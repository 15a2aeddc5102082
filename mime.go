package stampfs

import (
	"mime"
	"path"
	"strings"
)

// explicitMIMETypes are the Content-Types that contentType gives before
// asking package mime, so that they do not depend on the system's tables.
var explicitMIMETypes = map[string]string{
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".wasm":  "application/wasm",
	".json":  "application/json",
	".map":   "application/json",
	".html":  "text/html; charset=utf-8",
	".htm":   "text/html; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".xml":   "application/xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
	".avif":  "image/avif",
	".ico":   "image/vnd.microsoft.icon",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
	".pdf":   "application/pdf",
	".mp4":   "video/mp4",
	".webm":  "video/webm",
	".br":    "application/octet-stream",
	".gz":    "application/gzip",
}

// contentType returns the Content-Type of a file named name: the explicit
// one for its extension, else package mime's, else application/octet-stream.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := explicitMIMETypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

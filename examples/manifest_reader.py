"""Read a stampfs manifest (schema version 1) from Python, standard library only.

A template helper of any Python stack (Jinja2, Django, Flask) resolves a
static file's name to its stamped URL and Subresource Integrity value:

    assets = Manifest.load("static/manifest.json")   # stampfs manifest -o ...
    app.jinja_env.globals["asset"] = assets.tag      # {{ asset("css/site.css") }}

Run as a program, it prints the tag of each name given:

    python3 manifest_reader.py manifest.json css/site.css js/app.js
"""

import html
import json
import sys


class Manifest:
    """The files of one stamp: name -> url, integrity, type, size, sha256."""

    def __init__(self, doc):
        if doc.get("version") != 1:
            raise ValueError("stampfs manifest: schema version %r, want 1" % doc.get("version"))
        self.stamp = doc["stamp"]
        self.prefix = doc["prefix"]
        self.files = doc["files"]

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def _file(self, name):
        try:
            return self.files[name.lstrip("/")]
        except KeyError:
            raise KeyError("stampfs manifest: no served file %r in stamp %s" % (name, self.stamp)) from None

    def url(self, name):
        """The stamped URL of name, escaped as the Go handler escapes it."""
        return self._file(name)["url"]

    def integrity(self, name):
        """The Subresource Integrity value of name: sha384-<base64>."""
        return self._file(name)["integrity"]

    def tag(self, name):
        """A <link> for a stylesheet, a <script> for anything else."""
        f = self._file(name)
        url, sri = html.escape(f["url"]), html.escape(f["integrity"])
        if f["type"].startswith("text/css"):
            return '<link rel="stylesheet" href="%s" integrity="%s" crossorigin="anonymous">' % (url, sri)
        return '<script src="%s" integrity="%s" crossorigin="anonymous"></script>' % (url, sri)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print("usage: manifest_reader.py MANIFEST NAME...", file=sys.stderr)
        sys.exit(2)
    manifest = Manifest.load(sys.argv[1])
    for name in sys.argv[2:]:
        try:
            print(manifest.tag(name))
        except KeyError as e:
            print(e.args[0], file=sys.stderr)
            sys.exit(1)

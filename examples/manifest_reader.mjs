// Read a stampfs manifest (schema version 1) from Node, no dependencies.
//
// A template helper of any Node stack (Express with EJS, Nunjucks,
// Handlebars) resolves a static file's name to its stamped URL and
// Subresource Integrity value:
//
//   const assets = Manifest.load("static/manifest.json"); // stampfs manifest -o ...
//   app.locals.asset = (name) => assets.tag(name);       // <%- asset("css/site.css") %>
//
// Run as a program, it prints the tag of each name given:
//
//   node manifest_reader.mjs manifest.json css/site.css js/app.js

import { readFileSync } from "node:fs";
import { argv, exit } from "node:process";
import { fileURLToPath } from "node:url";

const escapeHTML = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export class Manifest {
  constructor(doc) {
    if (doc.version !== 1) throw new Error(`stampfs manifest: schema version ${doc.version}, want 1`);
    this.stamp = doc.stamp;
    this.prefix = doc.prefix;
    this.files = doc.files;
  }

  static load(path) {
    return new Manifest(JSON.parse(readFileSync(path, "utf8")));
  }

  file(name) {
    const f = Object.hasOwn(this.files, name.replace(/^\/+/, "")) ? this.files[name.replace(/^\/+/, "")] : undefined;
    if (!f) throw new Error(`stampfs manifest: no served file ${JSON.stringify(name)} in stamp ${this.stamp}`);
    return f;
  }

  // The stamped URL of name, escaped as the Go handler escapes it.
  url(name) {
    return this.file(name).url;
  }

  // The Subresource Integrity value of name: sha384-<base64>.
  integrity(name) {
    return this.file(name).integrity;
  }

  // A <link> for a stylesheet, a <script> for anything else.
  tag(name) {
    const f = this.file(name);
    const url = escapeHTML(f.url), sri = escapeHTML(f.integrity);
    if (f.type.startsWith("text/css")) return `<link rel="stylesheet" href="${url}" integrity="${sri}" crossorigin="anonymous">`;
    return `<script src="${url}" integrity="${sri}" crossorigin="anonymous"></script>`;
  }
}

if (argv[1] === fileURLToPath(import.meta.url)) {
  if (argv.length < 4) {
    console.error("usage: node manifest_reader.mjs MANIFEST NAME...");
    exit(2);
  }
  const manifest = Manifest.load(argv[2]);
  for (const name of argv.slice(3)) {
    try {
      console.log(manifest.tag(name));
    } catch (e) {
      console.error(e.message);
      exit(1);
    }
  }
}

// Package publish puts stampfs versions in an object store, for many app
// servers behind a CDN.
//
// # Layout
//
// Under a key prefix PREFIX, a version of stamp S is
//
//	PREFIX/S/NAME        every served file and its precompressed siblings
//	                     (NAME.br, NAME.gz), with the headers the Handler
//	                     sends and the SHA-256 in the object's metadata
//	PREFIX/S.json        the version's stampfs.Manifest, immutable
//	PREFIX/current.json  the current version's manifest, no-cache
//
// Publish writes the objects first, then PREFIX/S.json, then
// PREFIX/current.json, so a manifest never names an object that is not in
// place. An object already at its key with the same SHA-256 is skipped and a
// file unchanged since a retained version is copied inside the store, so
// publishing an unchanged version sends no object bytes and rewrites nothing.
// Old versions are pruned as on disk; nothing that a stampfs manifest does
// not list is ever deleted.
//
// # Stores
//
// Publish talks to a store through the small Bucket interface;
// package github.com/stampfs/stampfs/publish/s3bucket implements it for AWS S3
// and S3-compatible services. Another store (GCS, Azure Blob) needs only
// its six methods.
//
// # Concurrency
//
// A publish that is killed at any moment is completed by running it again.
// Two publishers of different stamps at once both end complete; the one that
// writes current.json last wins it.
package publish

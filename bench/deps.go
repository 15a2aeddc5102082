// Package bench measures stampfs against its peers; see README.md.
package bench

import (
	_ "github.com/benbjohnson/hashfs"
	_ "github.com/stampfs/stampfs"
)

// Package e2e runs stampfs against real servers and browsers: nginx and
// Apache serving versions with the configurations stampfs prints, a
// hostile-path sweep through both, Chromium loading pages through DevTools,
// stampfs publish writing to the Versity S3 gateway.
package e2e

import (
	_ "github.com/stampfs/stampfs"
	_ "github.com/stampfs/stampfs/publish/s3bucket" // built as stampfs-publish
	_ "github.com/stretchr/testify/assert"
)
